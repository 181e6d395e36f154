"""The ``taxaudit`` command line: a thin Typer skin over the library, one module per stage.

Each module in :data:`COMMAND_MODULES` has ``register(app)`` adding its commands or sub-group. Errors that a
user can act on (:class:`~taxaudit.errors.TaxauditError`) are printed as one clear message without a
traceback, and the process exits non-zero; with ``--json`` the error is also printed as JSON on stdout.
"""

from __future__ import annotations

import importlib
import json
import sys

import typer

from taxaudit.errors import TaxauditError

COMMAND_MODULES = ["case", "cases", "ingest", "sql", "demo", "check", "sample", "estimate", "disclose", "match"]

app = typer.Typer(
    name="taxaudit",
    help="An open, scriptable workbench for tax examinations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"taxaudit.cli.{_name}").register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit code; used by the script."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="taxaudit")
        code = 0
    except SystemExit as done:  # Typer's standalone mode ends every run, usage errors included, this way
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except TaxauditError as error:
        if "--json" in args:
            print(json.dumps(error.to_dict(), ensure_ascii=False))
        print(f"taxaudit: error: {error.message}", file=sys.stderr)
        code = error.exit_code
    if argv is None:
        sys.exit(code)
    return code

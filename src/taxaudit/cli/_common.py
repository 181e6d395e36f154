"""Shared CLI plumbing: JSON output with exact decimals, Rich console, progress bars."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from taxaudit.errors import TaxauditError

console = Console()
err_console = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]
CaseOption = Annotated[Path, typer.Option("--case", help="The case directory.", file_okay=False)]


def option_date(text: str | None, option: str, error: type[TaxauditError] = TaxauditError) -> date | None:
    """Return the date in an option's ``YYYY-MM-DD`` text (None stays None); raise ``error`` naming the option."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise error(f"{text!r} is not a date", where=option, hint="write dates as YYYY-MM-DD") from None


def json_default(value: Any) -> Any:
    """Encode values json cannot: Decimal as an exact string, dates ISO, paths as text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def print_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout (decimals as strings, UTF-8 text unescaped)."""
    typer.echo(json.dumps(data, default=json_default, ensure_ascii=False, indent=2))


@contextmanager
def byte_progress(enabled: bool, description: str = "ingesting") -> Iterator[Any]:
    """Yield a callback ``(label, done_bytes, total_bytes)`` drawing a Rich progress bar on stderr."""
    if not enabled or not err_console.is_terminal:
        yield lambda label, done, total: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        tasks: dict[str, Any] = {}

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(f"{description} {label}", total=total)
            progress.update(tasks[label], completed=done, total=total)

        yield update

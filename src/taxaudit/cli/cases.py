"""``taxaudit case open|advance|status|deadline|document``, ``taxaudit ratios`` and ``taxaudit returns``.

The case commands join the existing ``case`` group of :mod:`taxaudit.cli.case`; all are thin wrappers over
:mod:`taxaudit.cases` and :mod:`taxaudit.ingest.returns`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Column, Table

from taxaudit.cases.deadlines import compute_deadline
from taxaudit.cases.documents import issue_document
from taxaudit.cases.errors import DeadlineError
from taxaudit.cases.lifecycle import advance, flow_status, list_flows, open_deadlines, open_flow
from taxaudit.cases.ratios import evaluate_ratios
from taxaudit.cli._common import CaseOption, JsonOption, console, err_console, option_date, print_json
from taxaudit.cli.case import case_app
from taxaudit.ingest.returns import ensure_returns_table, load_return
from taxaudit.store import open_case

OnOption = Annotated[str | None, typer.Option("--on", help="Date of the step, YYYY-MM-DD (default: today).")]
FlowIdOption = Annotated[str | None, typer.Option("--id", help="The case flow id (see taxaudit case status).")]

returns_app = typer.Typer(help="Load and list tax returns.", no_args_is_help=True)


def parse_day(text: str | None, option: str, default: date | None = None) -> date:
    """Return the date in ``text`` (YYYY-MM-DD); raise a clear error naming the option otherwise."""
    return option_date(text, option, DeadlineError) or default or date.today()


def _single_flow(case, flow_id: str | None) -> str:
    if flow_id:
        return flow_id
    flows = list_flows(case)
    if len(flows) != 1:
        raise DeadlineError(f"the case has {len(flows)} flows; say which", where="--id",
                            hint="give --id; existing: " + (", ".join(flows) or "none"))
    return flows[0]


def _print_status(status) -> None:
    console.print(f"[bold]{status.flow_id}[/bold] ({status.flow}) — {status.state_title}"
                  + (f" — closed: {status.closure}" if status.closure else ""))
    table = Table(Column("rule", overflow="fold"), *[Column(name, no_wrap=True) for name in
                                                     ("from", "received", "due", "status", "days left")])
    for deadline in status.deadlines:
        table.add_row(deadline.rule, str(deadline.start), str(deadline.received or ""), str(deadline.due),
                      deadline.status, "" if deadline.days_left is None else str(deadline.days_left))
    console.print(table)
    if status.next_actions:
        console.print("next: " + ", ".join(status.next_actions))


@case_app.command("open")
def open_command(
    case_dir: CaseOption,
    flow: Annotated[str, typer.Option(help="Lifecycle: ru_desk_audit or us_foia.")] = "ru_desk_audit",
    subject: Annotated[str | None, typer.Option(help="Source id of the return (desk audit).")] = None,
    on: OnOption = None,
    title: Annotated[str | None, typer.Option(help="A title for this flow.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Open a desk audit of a loaded return (or a FOIA request) and start its statutory deadlines."""
    with open_case(case_dir) as case:
        ensure_returns_table(case)
        default_on = None
        if flow == "ru_desk_audit" and subject is None:
            rows = case.con.execute("SELECT source_id FROM returns").fetchall()
            if len(rows) == 1:
                subject = rows[0][0]
        if subject:
            row = case.con.execute("SELECT filed_on FROM returns WHERE source_id = ?", [subject]).fetchone()
            default_on = row[0] if row else None
        status = open_flow(case, flow, subject=subject, on=parse_day(on, "--on", default_on), title=title)
    if as_json:
        print_json(status.to_dict())
    else:
        _print_status(status)


@case_app.command("advance")
def advance_command(
    case_dir: CaseOption,
    action: Annotated[str, typer.Argument(help="The step, e.g. run_checks, send_request, draw_act, decide.")],
    flow_id: FlowIdOption = None,
    on: OnOption = None,
    closure: Annotated[str | None, typer.Option(help="Closure code for a closing step.")] = None,
    by_post: Annotated[bool, typer.Option("--by-post", help="The document goes by registered post.")] = False,
    note: Annotated[str | None, typer.Option(help="A note kept with the step.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Apply one lifecycle step if the case's state and guards allow it; the step is logged in custody."""
    with open_case(case_dir) as case:
        status = advance(case, _single_flow(case, flow_id), action, on=parse_day(on, "--on"), closure=closure,
                         by_post=by_post, note=note)
    if as_json:
        print_json(status.to_dict())
    else:
        _print_status(status)


@case_app.command("status")
def status_command(
    case_dir: CaseOption,
    flow_id: FlowIdOption = None,
    on: OnOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show each flow's state, history, deadlines (with days left) and possible next steps."""
    with open_case(case_dir, read_only=True) as case:
        ids = [flow_id] if flow_id else list_flows(case)
        statuses = [flow_status(case, one, on=parse_day(on, "--on")) for one in ids]
    if as_json:
        print_json({"flows": [status.to_dict() for status in statuses]})
        return
    if not statuses:
        console.print("No case flows yet; open one with: taxaudit case open --case DIR")
    for status in statuses:
        _print_status(status)


@case_app.command("deadline")
def deadline_command(
    rule: Annotated[str | None, typer.Option(help="Deadline rule id, e.g. ru.explanations, us.foia_response.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="Date of the triggering event, YYYY-MM-DD.")] = None,
    country: Annotated[str | None, typer.Option(help="Country of the rule (RU, US).")] = None,
    extended: Annotated[bool, typer.Option("--extended", help="Apply the rule's statutory extension.")] = False,
    by_post: Annotated[bool, typer.Option("--by-post", help="Trigger document sent by registered post.")] = False,
    case_dir: Annotated[Path | None, typer.Option("--case", help="List every open deadline of this case.",
                                                   file_okay=False)] = None,
    on: OnOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compute one statutory deadline (--rule --from) or list every open deadline of a case (--case)."""
    if rule:
        deadline = compute_deadline(rule, parse_day(start, "--from"), country, extended=extended, by_post=by_post)
        if as_json:
            print_json(deadline.to_dict())
        else:
            console.print(f"{deadline.title}: from {deadline.start} due [bold]{deadline.due}[/bold] "
                          f"({deadline.working_days} working days) — {deadline.citation}")
        return
    if case_dir is None:
        raise DeadlineError("give --rule and --from, or --case", where="taxaudit case deadline",
                            hint="e.g. taxaudit case deadline --rule ru.explanations --from 2025-04-28")
    with open_case(case_dir, read_only=True) as case:
        deadlines = [d for d in open_deadlines(case, on=parse_day(on, "--on")) if d.status in ("open", "overdue")]
    if as_json:
        print_json({"deadlines": [deadline.to_dict() for deadline in deadlines]})
        return
    table = Table(Column("flow", overflow="fold"), Column("rule", overflow="fold"),
                  *[Column(name, no_wrap=True) for name in ("from", "due", "status", "days left")])
    for d in deadlines:
        table.add_row(d.flow_id, d.rule, str(d.start), str(d.due), d.status, str(d.days_left))
    console.print(table)


@case_app.command("document")
def document_command(
    case_dir: CaseOption,
    kind: Annotated[str, typer.Argument(help="explanations, documents or act.")],
    flow_id: FlowIdOption = None,
    on: OnOption = None,
    lang: Annotated[list[str] | None, typer.Option("--lang", help="ru and/or en (repeat for both).")] = None,
    by_post: Annotated[bool, typer.Option("--by-post", help="Sent by registered post.")] = False,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write a PDF.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Issue a request for explanations, a request for documents (only on an article 88 ground) or the act."""
    with open_case(case_dir) as case, progress_spinner(not as_json, f"rendering {kind}"):
        issued = issue_document(case, _single_flow(case, flow_id), kind, on=parse_day(on, "--on"),
                                languages=tuple(lang or ["ru"]), by_post=by_post, pdf=pdf)
    if as_json:
        print_json(issued.to_dict())
        return
    console.print(f"Issued {issued.kind} [bold]{issued.number}[/bold] on {issued.issued_on}; due {issued.due}")
    for item in issued.files:
        console.print(f"  {item['path']}  sha256 {item['sha256'][:16]}…")


@returns_app.command("load")
def returns_load(
    file: Annotated[Path, typer.Argument(help="Return file: FNS VAT XML, CSV or JSON.", dir_okay=False)],
    case_dir: CaseOption,
    format: Annotated[str | None, typer.Option(help="ru-vat-xml, csv or json (default: detect).")] = None,
    filed_on: Annotated[str | None, typer.Option(help="Day the authority received it (default: date in file).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Load a tax return into return_lines (bad lines quarantined) and record its correction and due date."""
    with open_case(case_dir) as case:
        load = load_return(case, file, format=format,
                           filed_on=None if filed_on is None else parse_day(filed_on, "--filed-on"))
    if as_json:
        print_json(load.to_dict())
    else:
        console.print(f"Loaded {load.return_type} {load.period} ({load.kind}, correction {load.correction_no}) as "
                      f"[bold]{load.source_id}[/bold]: {load.lines_loaded} lines, {load.rows_quarantined} "
                      f"quarantined; due {load.due_on}, filed {load.filed_on}"
                      + (" [red]late[/red]" if load.filed_late else ""))


@returns_app.command("list")
def returns_list(case_dir: CaseOption, as_json: JsonOption = False) -> None:
    """List the returns loaded in the case."""
    with open_case(case_dir, read_only=True) as case:
        ensure_returns_table(case)
        cursor = case.con.execute("SELECT * FROM returns ORDER BY return_type, period, correction_no")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if as_json:
        print_json({"returns": rows})
        return
    table = Table("source", "type", "period", "correction", "filed", "due", "taxpayer")
    for row in rows:
        table.add_row(row["source_id"], row["return_type"], row["period"], str(row["correction_no"]),
                      str(row["filed_on"]), str(row["due_on"]), row["taxpayer_tax_id"] or "")
    console.print(table)


def ratios_command(
    case_dir: CaseOption,
    pack: Annotated[str, typer.Option(help="Rule pack name or YAML path.")] = "ru_vat_ratios",
    source: Annotated[str | None, typer.Option("--return", help="Only this return (source id).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate control ratios on the case's returns and write failures to the findings table."""
    with open_case(case_dir) as case, progress_spinner(not as_json, "evaluating control ratios"):
        run = evaluate_ratios(case, pack=pack, source_id=source)
    if as_json:
        print_json(run.to_dict())
        return
    table = Table(Column("rule", overflow="fold"), Column("return", no_wrap=True), Column("status", no_wrap=True),
                  *[Column(name, justify="right", no_wrap=True) for name in ("left", "right", "difference")])
    for result in run.results:
        colour = {"failed": "red", "passed": "green"}.get(result.status, "dim")
        shown = "n/a" if result.status == "not_applicable" else result.status
        table.add_row(result.rule, f"{result.period}/{result.correction_no}", f"[{colour}]{shown}[/]",
                      str(result.left or ""), str(result.right or ""), str(result.difference or ""))
    console.print(table)
    console.print(f"{run.pack} {run.version}: {len(run.results)} checked, {len(run.failed)} failed "
                  "(failures written to findings)")


@contextmanager
def progress_spinner(enabled: bool, description: str) -> Iterator[None]:
    """Show a Rich spinner on stderr while a slow step (PDF rendering) runs."""
    if not enabled:
        yield
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err_console, transient=True) as bar:
        bar.add_task(description, total=None)
        yield


def register(app: typer.Typer) -> None:
    """Add ``taxaudit ratios`` and ``taxaudit returns``; the case commands joined ``case`` on import."""
    app.command("ratios")(ratios_command)
    app.add_typer(returns_app, name="returns")

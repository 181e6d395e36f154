"""``taxaudit disclose request|auth|redact|review|package``: disclosure requests from receipt to release."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from taxaudit.cli._common import CaseOption, JsonOption, console, err_console, option_date, print_json
from taxaudit.disclose.authorization import add_authorization, check_authorization, list_authorizations
from taxaudit.disclose.consistency import override_finding, review_consistency
from taxaudit.disclose.errors import DisclosureError
from taxaudit.disclose.package import build_release_package
from taxaudit.disclose.redact import ManualBox, redact_document, third_party_names
from taxaudit.disclose.register import add_request, close_request, get_request, list_requests
from taxaudit.disclose.review import draw_review_sample, project_review, record_review_result
from taxaudit.disclose.rules import load_rule_pack
from taxaudit.disclose.text_redact import TextSpan
from taxaudit.store import open_case
from taxaudit.store.custody import current_actor

disclose_app = typer.Typer(help="Disclosure: request register, authorizations, redaction, review, release.",
                           no_args_is_help=True)
request_app = typer.Typer(help="The request register (FOIA, I.R.C. § 6103(c)/(e)).", no_args_is_help=True)
auth_app = typer.Typer(help="Authorizations on file (Forms 2848, 8821, consents) and the release check.",
                       no_args_is_help=True)
review_app = typer.Typer(help="Consistency review of a case file and oversight review of closed requests.",
                         no_args_is_help=True)
disclose_app.add_typer(request_app, name="request")
disclose_app.add_typer(auth_app, name="auth")
disclose_app.add_typer(review_app, name="review")

DateText = Annotated[str, typer.Option(help="A date, YYYY-MM-DD.")]


def _date(text: str | None, option: str) -> date | None:
    return option_date(text, option, DisclosureError)


def _box(text: str, reviewer: str | None) -> ManualBox:
    """Parse ``PAGE:X0,Y0,X1,Y1:EXEMPTION[:REASON]`` (points from the page's lower-left corner)."""
    parts = text.split(":", 3)
    try:
        page = int(parts[0])
        x0, y0, x1, y1 = (float(v) for v in parts[1].split(","))
    except (ValueError, IndexError) as exc:
        raise DisclosureError(f"bad --box {text!r}", where="--box",
                              hint="write PAGE:X0,Y0,X1,Y1:EXEMPTION[:REASON], "
                                   "e.g. 1:72,700,200,712:(b)(7)(C)") from exc
    exemption = parts[2] if len(parts) > 2 and parts[2] else None
    reason = parts[3] if len(parts) > 3 else "manual redaction by reviewer"
    return ManualBox(page, (x0, y0, x1, y1), exemption, reason, reviewer)


def _span(text: str, reviewer: str | None) -> TextSpan:
    """Parse ``PAGE:LINE:START-END:EXEMPTION[:REASON]`` for text documents."""
    parts = text.split(":", 4)
    try:
        page, line = int(parts[0]), int(parts[1])
        start, end = (int(v) for v in parts[2].split("-"))
    except (ValueError, IndexError) as exc:
        raise DisclosureError(f"bad --span {text!r}", where="--span",
                              hint="write PAGE:LINE:START-END:EXEMPTION[:REASON], e.g. 1:4:10-21:(b)(7)(C)") from exc
    exemption = parts[3] if len(parts) > 3 and parts[3] else None
    reason = parts[4] if len(parts) > 4 else "manual redaction by reviewer"
    return TextSpan(page, line, start, end, exemption, reason, reviewer)


def _show(items: Sequence[Any], as_json: bool, columns: Sequence[str], row: Callable[[Any], Sequence[Any]]) -> None:
    """Print ``items`` as JSON (their ``to_dict``) or as a table of ``row(item)`` cells ("-" for missing)."""
    if as_json:
        print_json([item.to_dict() for item in items])
        return
    table = Table(*columns)
    for item in items:
        table.add_row(*("-" if cell is None else str(cell) for cell in row(item)))
    console.print(table)


@request_app.command("add")
def request_add(
    case_dir: CaseOption,
    request_type: Annotated[str, typer.Option("--type", help="foia, 6103c or 6103e.")],
    requester: Annotated[str, typer.Option(help="Who asks.")],
    records: Annotated[str, typer.Option(help="The records sought, as the requester describes them.")],
    received: Annotated[str, typer.Option(help="Date received, YYYY-MM-DD.")],
    requester_tax_id: Annotated[str | None, typer.Option(help="The requester's SSN/EIN, if known.")] = None,
    taxpayer: Annotated[str | None, typer.Option(help="Taxpayer whose information is sought.")] = None,
    taxpayer_tax_id: Annotated[str | None, typer.Option(help="That taxpayer's SSN/EIN.")] = None,
    matter: Annotated[str | None, typer.Option(help="Tax matter (form number or type of tax), e.g. 1040.")] = None,
    period: Annotated[list[str] | None, typer.Option(help="Tax period sought (YYYY); repeat for several.")] = None,
    due: Annotated[str | None, typer.Option(help="Override the computed due date, YYYY-MM-DD.")] = None,
    unusual_circumstances: Annotated[bool, typer.Option(
        help="FOIA unusual circumstances noticed in writing: 10 more working days.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Register a request; FOIA requests get a due date 20 working days after receipt."""
    with open_case(case_dir) as case:
        request = add_request(case, request_type=request_type, requester=requester, records_sought=records,
                              received=_date(received, "--received"), requester_tax_id=requester_tax_id,
                              taxpayer=taxpayer, taxpayer_tax_id=taxpayer_tax_id, matter=matter,
                              periods=period or [], due=_date(due, "--due"),
                              unusual_circumstances=unusual_circumstances)
    if as_json:
        print_json(request.to_dict())
    else:
        console.print(f"Registered [bold]{request.request_id}[/bold] ({request.request_type}); "
                      f"due {request.due_date or '-'} ({request.due_rule})")


@request_app.command("list")
def request_list(
    case_dir: CaseOption,
    status: Annotated[str | None, typer.Option(help="Only open or closed requests.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the register."""
    with open_case(case_dir) as case:
        requests = list_requests(case, status=status)
    _show(requests, as_json, ("request", "type", "requester", "received", "due", "status", "closure"),
          lambda r: (r.request_id, r.request_type, r.requester, r.received_date, r.due_date, r.status,
                     r.closure_code))


@request_app.command("close")
def request_close(
    case_dir: CaseOption,
    request_id: Annotated[str, typer.Argument(help="The request.")],
    closure: Annotated[str, typer.Option(help="granted, partially denied, denied, no records or imperfect.")],
    closed: Annotated[str, typer.Option(help="Date closed, YYYY-MM-DD.")],
    as_json: JsonOption = False,
) -> None:
    """Close a request with its closure code."""
    with open_case(case_dir) as case:
        request = close_request(case, request_id, closure, _date(closed, "--closed"))
    if as_json:
        print_json(request.to_dict())
    else:
        console.print(f"Closed {request_id}: {closure}")


@auth_app.command("add")
def auth_add(
    case_dir: CaseOption,
    form: Annotated[str, typer.Option(help="2848, 8821, consent or 6103e.")],
    taxpayer_tax_id: Annotated[str, typer.Option(help="The taxpayer's SSN/EIN.")],
    representative: Annotated[str, typer.Option(help="The representative or designee named.")],
    matter: Annotated[list[str], typer.Option(help="Tax matter covered (e.g. 1040); repeat for several.")],
    period: Annotated[list[str], typer.Option(help="Period covered (YYYY, YYYY-MM, YYYY-Qn); repeat.")],
    received: Annotated[str, typer.Option(help="Date received, YYYY-MM-DD.")],
    signed: Annotated[str | None, typer.Option(help="Date signed by the taxpayer, YYYY-MM-DD.")] = None,
    taxpayer: Annotated[str | None, typer.Option(help="The taxpayer's name.")] = None,
    representative_id: Annotated[str | None, typer.Option(help="CAF number or tax id of the representative.")] = None,
    expires: Annotated[str | None, typer.Option(help="Expiry date, YYYY-MM-DD.")] = None,
    revoked: Annotated[str | None, typer.Option(help="Revocation date, YYYY-MM-DD.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Record an authorization on file."""
    with open_case(case_dir) as case:
        auth = add_authorization(case, form=form, taxpayer_tax_id=taxpayer_tax_id, representative=representative,
                                 matters=matter, periods=period, received=_date(received, "--received"),
                                 signed=_date(signed, "--signed"), taxpayer=taxpayer,
                                 representative_id=representative_id, expires=_date(expires, "--expires"),
                                 revoked=_date(revoked, "--revoked"))
    if as_json:
        print_json(auth.to_dict())
    else:
        console.print(f"Recorded [bold]{auth.authorization_id}[/bold] (Form {auth.form})")


@auth_app.command("list")
def auth_list(
    case_dir: CaseOption,
    taxpayer_tax_id: Annotated[str | None, typer.Option(help="Only this taxpayer's authorizations.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the authorizations on file."""
    with open_case(case_dir) as case:
        found = list_authorizations(case, taxpayer_tax_id=taxpayer_tax_id)
    _show(found, as_json, ("authorization", "form", "taxpayer", "representative", "matters", "periods", "signed",
                           "received", "expires", "revoked"),
          lambda a: (a.authorization_id, a.form, a.taxpayer_tax_id, a.representative, ", ".join(a.matters),
                     ", ".join(a.periods), a.signed_date, a.received_date, a.expires_date, a.revoked_date))


@auth_app.command("check")
def auth_check(
    case_dir: CaseOption,
    request_id: Annotated[str, typer.Argument(help="The request.")],
    on: Annotated[str | None, typer.Option(help="Release date to check, YYYY-MM-DD (default today).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Check whether an authorization covers releasing the request's records; exit 1 when it does not."""
    with open_case(case_dir) as case:
        decision = check_authorization(case, request_id, on=_date(on, "--on"))
    if as_json:
        print_json(decision.to_dict())
    elif decision.allowed:
        console.print(f"[green]ALLOWED[/green]: {decision.basis}")
    else:
        console.print(f"[red]REFUSED[/red]: {decision.basis}")
        for failure in decision.failures:
            console.print(f"  {failure.condition}: {failure.detail}")
    if not decision.allowed:
        raise typer.Exit(1)


@disclose_app.command("redact")
def redact(
    case_dir: CaseOption,
    request_id: Annotated[str, typer.Argument(help="The request whose case file the documents belong to.")],
    documents: Annotated[list[Path], typer.Argument(help="PDF or UTF-8 text documents.", exists=True,
                                                    dir_okay=False)],
    rules: Annotated[Path | None, typer.Option(help="Redaction rule YAML (default: packaged rules).")] = None,
    name: Annotated[list[str] | None, typer.Option(help="Third-party name to redact; repeat for several.")] = None,
    names_from_parties: Annotated[bool, typer.Option(help="Also redact names in the parties table.")] = False,
    box: Annotated[list[str] | None, typer.Option(
        help="Manual PDF redaction PAGE:X0,Y0,X1,Y1:EXEMPTION[:REASON], points from the unrotated "
             "MediaBox's lower-left corner.")] = None,
    span: Annotated[list[str] | None, typer.Option(
        help="Manual text redaction PAGE:LINE:START-END:EXEMPTION[:REASON].")] = None,
    no_rules: Annotated[bool, typer.Option("--no-rules", help="Apply only the manual redactions.")] = False,
    reviewer: Annotated[str | None, typer.Option(help="Who reviews (default: the current user).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Redact documents: rule matches and manual boxes are removed from the content and stamped."""
    reviewer = reviewer or current_actor()
    if (box or span) and len(documents) > 1:
        raise DisclosureError("--box and --span give positions in one document", where="--box/--span",
                              hint="redact documents with manual redactions one at a time")
    pack = load_rule_pack(rules)
    boxes = [_box(b, reviewer) for b in box or []]
    spans = [_span(s, reviewer) for s in span or []]
    results = []
    with open_case(case_dir) as case:
        names = list(name or [])
        if names_from_parties:
            names += third_party_names(case, get_request(case, request_id))
        columns = (TextColumn("[bold]redacting"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"))
        with Progress(*columns, console=err_console, transient=True, disable=as_json) as progress:
            task = progress.add_task("", total=len(documents))
            for document in documents:
                progress.update(task, description=document.name)
                is_pdf = document.read_bytes()[:1024].find(b"%PDF-") >= 0
                results.append(redact_document(
                    case, request_id, document, pack=pack, names=names, manual=boxes if is_pdf else [],
                    manual_text=[] if is_pdf else spans, use_rules=not no_rules, reviewer=reviewer))
                progress.advance(task)
    if as_json:
        print_json([r.to_dict() for r in results])
        return
    for result in results:
        where = os.path.relpath(result.redacted_path)
        console.print(f"{result.name}: {len(result.redactions)} redaction(s) -> {where}")


@review_app.command("consistency")
def review_consistency_command(
    case_dir: CaseOption,
    request_id: Annotated[str, typer.Argument(help="The request.")],
    rules: Annotated[Path | None, typer.Option(help="Redaction rule YAML (default: packaged rules).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Review the whole case file for inconsistent redactions; exit 1 while findings are open."""
    with open_case(case_dir) as case:
        findings = review_consistency(case, request_id, load_rule_pack(rules))
    if as_json:
        print_json([f.to_dict() for f in findings])
    else:
        table = Table("key", "kind", "status", "message")
        for f in findings:
            table.add_row(f.key, f.kind, f.status, f.message)
        console.print(table if findings else "[green]No inconsistencies found.[/green]")
    if any(f.status == "open" for f in findings):
        raise typer.Exit(1)


@review_app.command("override")
def review_override(
    case_dir: CaseOption,
    request_id: Annotated[str, typer.Argument(help="The request.")],
    key: Annotated[str, typer.Argument(help="The finding key.")],
    reason: Annotated[str, typer.Option(help="Why the finding does not block the release.")],
    by: Annotated[str | None, typer.Option(help="Who overrides (default: the current user).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Override one open consistency finding with a reason."""
    with open_case(case_dir) as case:
        finding = override_finding(case, request_id, key, reason, by=by or current_actor())
    if as_json:
        print_json(finding.to_dict())
    else:
        console.print(f"Overridden {finding.key}: {finding.override_reason}")


@review_app.command("sample")
def review_sample(
    case_dir: CaseOption,
    size: Annotated[int, typer.Option(help="How many closed requests to draw.")],
    seed: Annotated[int, typer.Option(help="Seed of the PCG64 generator (record it: it reproduces the draw).")],
    closure: Annotated[list[str] | None, typer.Option(
        help="Closure codes in the population (default: partially denied, denied, no records, imperfect).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Draw a seeded review sample of closed requests."""
    with open_case(case_dir) as case:
        sample = (draw_review_sample(case, size, seed, closure_codes=closure) if closure
                  else draw_review_sample(case, size, seed))
    if as_json:
        print_json(sample.to_dict())
    else:
        console.print(f"Review [bold]{sample.review_id}[/bold]: {len(sample.request_ids)} of {sample.population} "
                      f"(seed {sample.seed})")
        for request_id in sample.request_ids:
            console.print(f"  {request_id}")


@review_app.command("record")
def review_record(
    case_dir: CaseOption,
    review_id: Annotated[str, typer.Argument(help="The review.")],
    request_id: Annotated[str, typer.Argument(help="The sampled request.")],
    error: Annotated[bool, typer.Option("--error/--no-error", help="Whether the case has an error.")],
    kind: Annotated[list[str] | None, typer.Option(help="Error kind; repeat for several.")] = None,
    note: Annotated[str | None, typer.Option(help="The reviewer's note.")] = None,
    reviewer: Annotated[str | None, typer.Option(help="Who reviewed (default: the current user).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Record the reviewer's result for one sampled request."""
    with open_case(case_dir) as case:
        result = record_review_result(case, review_id, request_id, reviewer=reviewer or current_actor(),
                                      error=error, error_kinds=kind or [], note=note)
    if as_json:
        print_json(result)
    else:
        console.print(f"Recorded {request_id}: {'error' if error else 'no error'}")


@review_app.command("project")
def review_project(
    case_dir: CaseOption,
    review_id: Annotated[str, typer.Argument(help="The review.")],
    confidence: Annotated[float, typer.Option(help="Two-sided confidence level.")] = 0.90,
    as_json: JsonOption = False,
) -> None:
    """Project the reviewed error rate to the population with a Clopper-Pearson interval."""
    with open_case(case_dir) as case:
        projection = project_review(case, review_id, confidence=confidence)
    if as_json:
        print_json(projection.to_dict())
        return
    p = projection
    console.print(f"{p.errors} error(s) in {p.reviewed} reviewed: {p.error_rate:.1%} "
                  f"({p.confidence:.0%} CI {p.rate_lower:.1%} to {p.rate_upper:.1%}); projected "
                  f"{p.projected_errors:.0f} of {p.population} ({p.projected_lower:.0f} to {p.projected_upper:.0f})")


@disclose_app.command("package")
def package(
    case_dir: CaseOption,
    request_id: Annotated[str, typer.Argument(help="The request.")],
    on: Annotated[str | None, typer.Option(help="Release date, YYYY-MM-DD (default today).")] = None,
    signer: Annotated[str, typer.Option(help="Who signs the response letter.")] = "Disclosure Office",
    rules: Annotated[Path | None, typer.Option(help="Redaction rule YAML (default: packaged rules).")] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write the letter as PDF.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Build the release package; refused while findings are open or no authorization covers the release."""
    status = nullcontext() if as_json else err_console.status("building the release package")
    with open_case(case_dir) as case, status:
        release = build_release_package(case, request_id, pack=load_rule_pack(rules), on=_date(on, "--on"),
                                        signer=signer, pdf_letter=pdf)
    if as_json:
        print_json(release.to_dict())
    else:
        console.print(f"Release [bold]{release.release_id}[/bold]: {len(release.files)} files in "
                      f"{os.path.relpath(release.directory)}; manifest SHA-256 {release.manifest_sha256}")


def register(app: typer.Typer) -> None:
    app.add_typer(disclose_app, name="disclose")

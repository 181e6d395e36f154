"""The request register: FOIA and I.R.C. § 6103(c)/(e) requests with their due dates, status and closure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from taxaudit.disclose.due import response_due
from taxaudit.disclose.errors import DisclosureError
from taxaudit.disclose.tables import ensure_tables, new_id, rows
from taxaudit.store import Case

REQUEST_TYPES = {
    "foia": "Freedom of Information Act request (5 U.S.C. § 552)",
    "6103c": "Disclosure to a designee with the taxpayer's consent (I.R.C. § 6103(c))",
    "6103e": "Disclosure to a person with a material interest (I.R.C. § 6103(e))",
}
# The closure codes TIGTA's review population is drawn from (seed 000, Appendix I), plus a full grant.
CLOSURE_CODES = ("granted", "partially denied", "denied", "no records", "imperfect")
STATUSES = ("open", "closed")


@dataclass(frozen=True)
class DisclosureRequest:
    """One entry of the register."""

    request_id: str
    request_type: str
    requester: str
    requester_tax_id: str | None
    taxpayer: str | None
    taxpayer_tax_id: str | None
    matter: str | None
    periods: list[str]
    records_sought: str
    received_date: date
    due_date: date | None
    due_rule: str | None
    status: str
    closure_code: str | None
    closed_date: date | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def third_party(self) -> bool:
        """True when the requester is not the taxpayer whose information is sought."""
        if not self.taxpayer_tax_id:
            return False
        return (self.requester_tax_id or "").replace("-", "") != self.taxpayer_tax_id.replace("-", "")


def _from_row(row: dict[str, Any]) -> DisclosureRequest:
    row = dict(row)
    row.pop("created_at", None)
    row["periods"] = json.loads(row["periods"]) if row["periods"] else []
    return DisclosureRequest(**row)


def add_request(case: Case, *, request_type: str, requester: str, records_sought: str, received: date,
                requester_tax_id: str | None = None, taxpayer: str | None = None,
                taxpayer_tax_id: str | None = None, matter: str | None = None,
                periods: Sequence[str] = (), due: date | None = None,
                unusual_circumstances: bool = False) -> DisclosureRequest:
    """Register a request, compute its due date (unless ``due`` is given) and log ``request_registered``.

    The due date comes from the deadline engine (:func:`taxaudit.disclose.due.response_due`);
    ``unusual_circumstances`` extends a FOIA period by 10 working days (5 U.S.C. § 552(a)(6)(B)(i)).
    """
    if request_type not in REQUEST_TYPES:
        raise DisclosureError(f"unknown request type {request_type!r}", where="request_type",
                              hint=f"use one of: {', '.join(REQUEST_TYPES)}")
    if not requester.strip() or not records_sought.strip():
        raise DisclosureError("a request needs a requester and a description of the records sought",
                              hint="give --requester and --records")
    if request_type in ("6103c", "6103e") and not taxpayer_tax_id:
        raise DisclosureError("a § 6103(c)/(e) request must name the taxpayer whose information is sought",
                              where="taxpayer_tax_id", hint="give --taxpayer-tax-id")
    ensure_tables(case)
    due_date, due_rule = (due, "set by hand") if due else response_due(
        request_type, received, unusual_circumstances=unusual_circumstances)
    request_id = new_id("REQ")
    with case.unit_of_work() as work:
        case.con.execute(
            "INSERT INTO disclose_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, NULL, ?)",
            [request_id, request_type, requester.strip(), requester_tax_id, taxpayer, taxpayer_tax_id, matter,
             json.dumps(list(periods)), records_sought.strip(), received, due_date, due_rule,
             datetime.now(UTC).replace(tzinfo=None)])
        work.log("request_registered", request_id, None, request_type=request_type, received=received.isoformat(),
                 due=due_date.isoformat() if due_date else None, due_rule=due_rule)
    return get_request(case, request_id)


def get_request(case: Case, request_id: str) -> DisclosureRequest:
    """Return the request ``request_id``; raise :class:`DisclosureError` when it is not registered."""
    ensure_tables(case)
    found = rows(case, "SELECT * FROM disclose_requests WHERE request_id = ?", [request_id])
    if not found:
        raise DisclosureError(f"no request {request_id!r} in this case", where=str(case.root),
                              hint="list requests with: taxaudit disclose request list")
    return _from_row(found[0])


def list_requests(case: Case, *, status: str | None = None) -> list[DisclosureRequest]:
    """Return the register in order of receipt, optionally only ``open`` or ``closed`` requests."""
    ensure_tables(case)
    if status is not None and status not in STATUSES:
        raise DisclosureError(f"unknown status {status!r}", hint=f"use one of: {', '.join(STATUSES)}")
    sql = "SELECT * FROM disclose_requests"
    params: list[Any] = []
    if status:
        sql += " WHERE status = ?"
        params.append(status)
    return [_from_row(row) for row in rows(case, sql + " ORDER BY received_date, request_id", params)]


def close_request(case: Case, request_id: str, closure_code: str, closed: date) -> DisclosureRequest:
    """Close a request with a closure code and log ``request_closed``."""
    if closure_code not in CLOSURE_CODES:
        raise DisclosureError(f"unknown closure code {closure_code!r}",
                              hint=f"use one of: {', '.join(CLOSURE_CODES)}")
    request = get_request(case, request_id)
    if request.status == "closed":
        raise DisclosureError(f"request {request_id} is already closed ({request.closure_code})")
    if closed < request.received_date:
        raise DisclosureError("a request cannot be closed before it was received", where=request_id)
    with case.unit_of_work() as work:
        case.con.execute("UPDATE disclose_requests SET status = 'closed', closure_code = ?, closed_date = ? "
                         "WHERE request_id = ?", [closure_code, closed, request_id])
        late = request.due_date is not None and closed > request.due_date
        work.log("request_closed", request_id, None, closure_code=closure_code, closed=closed.isoformat(),
                 after_due_date=late)
    return get_request(case, request_id)

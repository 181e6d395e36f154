"""Case lifecycles run as state machines defined in ``cases/flows.yaml``: desk audits (НК РФ ст. 88, 100, 101)
and disclosure requests (5 U.S.C. 552(a)(6)).

Every transition is checked — it must start from an allowed state, pass its guards (no act before the checks,
no decision before the objection period ends, no request for documents without an article 88 ground), not be
dated before the previous step — and is logged in the custody chain together with the statutory deadlines it
starts, meets or extends.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import yaml

from taxaudit.cases.deadlines import compute_deadline
from taxaudit.cases.errors import LifecycleError
from taxaudit.ingest.returns import ensure_returns_table, ensure_table
from taxaudit.store.case import Case
from taxaudit.store.custody import current_actor

TABLES = (
    """CREATE TABLE IF NOT EXISTS case_flows (
        flow_id VARCHAR PRIMARY KEY, flow VARCHAR NOT NULL, subject VARCHAR, state VARCHAR NOT NULL,
        opened_on DATE NOT NULL, last_on DATE NOT NULL, closure VARCHAR, title VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS case_transitions (
        flow_id VARCHAR NOT NULL, seq INTEGER NOT NULL, action VARCHAR NOT NULL, from_state VARCHAR,
        to_state VARCHAR NOT NULL, on_date DATE NOT NULL, actor VARCHAR, details JSON,
        PRIMARY KEY (flow_id, seq))""",
    """CREATE TABLE IF NOT EXISTS case_deadlines (
        flow_id VARCHAR NOT NULL, seq INTEGER NOT NULL, rule VARCHAR NOT NULL, start DATE NOT NULL,
        received DATE, due DATE NOT NULL, extended BOOLEAN NOT NULL, status VARCHAR NOT NULL,
        closed_on DATE, citation VARCHAR, started_by VARCHAR, PRIMARY KEY (flow_id, seq))""",
)


@cache
def flows() -> dict[str, Any]:
    """Return the lifecycle definitions (``cases/flows.yaml``), checked for internal consistency."""
    data = yaml.safe_load((resources.files("taxaudit.cases") / "flows.yaml").read_text(encoding="utf-8"))
    for name, flow in data["flows"].items():
        states = flow["states"]
        for transition in flow["transitions"]:
            targets = [*transition["from"], transition["to"]]
            unknown = [state for state in targets if state != "same" and state not in states]
            if unknown:
                raise LifecycleError(f"flow {name}: action {transition['action']} names unknown states {unknown}",
                                     where="taxaudit/cases/flows.yaml", hint="fix the flow definition")
            for code in transition.get("closure", []):
                if code not in flow["closure_codes"]:
                    raise LifecycleError(f"flow {name}: unknown closure code {code}",
                                         where="taxaudit/cases/flows.yaml", hint="add it to closure_codes")
    return data


@dataclass(frozen=True)
class OpenDeadline:
    """A statutory deadline running in a case: rule, when it started, when it is due, and its status."""

    flow_id: str
    rule: str
    start: date
    received: date | None
    due: date
    extended: bool
    status: str
    citation: str
    days_left: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FlowStatus:
    """Where a case flow stands: its state, closure, history and deadlines, and what it may do next."""

    flow_id: str
    flow: str
    subject: str | None
    state: str
    state_title: str
    closure: str | None
    opened_on: date
    last_on: date
    history: list[dict[str, Any]] = field(default_factory=list)
    deadlines: list[OpenDeadline] = field(default_factory=list)
    next_actions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["deadlines"] = [deadline.to_dict() for deadline in self.deadlines]
        return data


def ensure_tables(case: Case) -> None:
    """Create the lifecycle tables if the case does not have them yet."""
    for statement in TABLES:
        ensure_table(case, statement.split("EXISTS", 1)[1].split("(", 1)[0].strip(), statement)
    ensure_returns_table(case)


def _flow_definition(name: str) -> dict[str, Any]:
    definitions = flows()["flows"]
    if name not in definitions:
        raise LifecycleError(f"no lifecycle {name!r}", where="--flow", hint=f"use one of: {', '.join(definitions)}")
    return definitions[name]


def _start_deadline(case: Case, flow_id: str, rule: str, start: date, by_post: bool, action: str,
                    country: str | None = None) -> dict[str, Any]:
    deadline = compute_deadline(rule, start, by_post=by_post)
    seq = case.con.execute("SELECT count(*) FROM case_deadlines WHERE flow_id = ?", [flow_id]).fetchone()[0] + 1
    case.con.execute("INSERT INTO case_deadlines VALUES (?, ?, ?, ?, ?, ?, ?, 'open', NULL, ?, ?)",
                     [flow_id, seq, rule, start, deadline.received, deadline.due, False, deadline.citation, action])
    return {"rule": rule, "start": start.isoformat(), "due": deadline.due.isoformat(),
            "received": deadline.received.isoformat() if deadline.received else None}


def open_flow(case: Case, flow: str, *, on: date, subject: str | None = None, title: str | None = None,
              flow_id: str | None = None) -> FlowStatus:
    """Open a case flow (e.g. a desk audit of a loaded return) in its initial state and start its deadlines.

    For a desk audit ``subject`` is the return's source id and ``on`` the day the return was filed (the audit
    term runs from it, НК РФ ст. 88 п. 2); for a FOIA request ``on`` is the day the request was received.
    """
    definition = _flow_definition(flow)
    ensure_tables(case)
    return_type = None
    if definition.get("needs_subject"):
        row = case.con.execute("SELECT return_type FROM returns WHERE source_id = ?", [subject]).fetchone()
        if row is None:
            raise LifecycleError(f"flow {flow} needs a loaded return as subject; {subject!r} is not one",
                                 where="--subject", hint="load the return first and give its source id")
        return_type = row[0]
        if case.con.execute("SELECT 1 FROM case_flows WHERE flow = ? AND subject = ? AND closure IS NULL",
                            [flow, subject]).fetchone():
            raise LifecycleError(f"an open {flow} already exists for {subject}", where="--subject",
                                 hint="advance the existing flow (taxaudit case status)")
    count = case.con.execute("SELECT count(*) FROM case_flows WHERE flow = ?", [flow]).fetchone()[0]
    flow_id = flow_id or f"{flow}-{count + 1}"
    if case.con.execute("SELECT 1 FROM case_flows WHERE flow_id = ?", [flow_id]).fetchone():
        raise LifecycleError(f"flow id {flow_id} already exists", where="--id", hint="choose another id")
    opening = definition.get("on_open", {})
    rules = list(opening.get("starts", []))
    by_type = opening.get("starts_by_return_type")
    if by_type:
        rules.append(by_type.get(return_type, by_type["default"]))
    with case.unit_of_work() as work:
        case.con.execute("INSERT INTO case_flows VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
                         [flow_id, flow, subject, definition["initial"], on, on, title])
        started = [_start_deadline(case, flow_id, rule, on, False, "open") for rule in rules]
        case.con.execute("INSERT INTO case_transitions VALUES (?, 1, 'open', NULL, ?, ?, ?, ?)",
                         [flow_id, definition["initial"], on, current_actor(),
                          json.dumps({"started": started}, ensure_ascii=False)])
        work.log("case_opened", flow_id, None, flow=flow, return_source=subject, on=on.isoformat(),
                 started=started)
    return flow_status(case, flow_id)


def _guard(case: Case, flow_row: dict[str, Any], guard: Any, on: date) -> str | None:
    """Return None when the guard holds, else the reason it does not."""
    subject = flow_row["subject"]
    if isinstance(guard, dict) and "deadline_passed" in guard:
        rules = guard["deadline_passed"]
        open_rows = case.con.execute(
            f"SELECT rule, due FROM case_deadlines WHERE flow_id = ? AND status = 'open' "
            f"AND rule IN ({', '.join('?' for _ in rules)})", [flow_row["flow_id"], *rules]).fetchall()
        if not open_rows:
            return f"no open deadline among {', '.join(rules)}"
        running = [f"{rule} runs until {due}" for rule, due in open_rows if on <= due]
        return "; ".join(running) if running else None
    if guard == "ratios_evaluated":
        for event in reversed(case.events()):
            if event.action == "check_run" and subject in event.details.get("returns", []):
                return None
        return "the control ratios have not been evaluated on this return (taxaudit ratios)"
    if guard in ("has_findings", "no_findings"):
        count = case.con.execute("SELECT count(*) FROM findings WHERE subject_key = ?", [subject]).fetchone()[0]
        if guard == "has_findings":
            return None if count else "the checks found no discrepancy in this return"
        return None if not count else f"{count} findings are recorded for this return"
    if guard == "art88_ground":
        from taxaudit.cases.grounds import check_grounds

        checks = check_grounds(case, subject)
        if any(check.applies for check in checks):
            return None
        return "no article 88 ground applies (checked: " + ", ".join(check.ground for check in checks) + ")"
    raise LifecycleError(f"unknown guard {guard!r}", where="taxaudit/cases/flows.yaml", hint="fix the flow")


def _flow_row(case: Case, flow_id: str) -> dict[str, Any]:
    ensure_tables(case)
    cursor = case.con.execute("SELECT * FROM case_flows WHERE flow_id = ?", [flow_id])
    row = cursor.fetchone()
    if row is None:
        ids = [r[0] for r in case.con.execute("SELECT flow_id FROM case_flows ORDER BY flow_id").fetchall()]
        raise LifecycleError(f"no case flow {flow_id!r}", where="--id",
                             hint=f"open one with taxaudit case open; existing: {', '.join(ids) or 'none'}")
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def advance(case: Case, flow_id: str, action: str, *, on: date, closure: str | None = None,
            by_post: bool = False, note: str | None = None) -> FlowStatus:
    """Apply ``action`` to a case flow on date ``on`` if the lifecycle allows it; log it and its deadlines.

    ``by_post`` says the document this step sends (request, act) goes by registered post, so the periods it
    starts run from the sixth working day after sending (НК РФ ст. 31 п. 4, ст. 100 п. 5).
    """
    row = _flow_row(case, flow_id)
    definition = _flow_definition(row["flow"])
    transition = next((t for t in definition["transitions"] if t["action"] == action), None)
    if transition is None:
        raise LifecycleError(f"{row['flow']} has no action {action!r}", where="--action",
                             hint="allowed actions: " + ", ".join(t["action"] for t in definition["transitions"]))
    state = row["state"]
    if state not in transition["from"]:
        raise LifecycleError(
            f"cannot {action} a case in state {state!r} ({definition['states'][state]['title']})",
            where=flow_id, hint=f"{action} is allowed from: {', '.join(transition['from'])}; next possible: "
                                f"{', '.join(_next_actions(definition, state)) or 'none (final state)'}")
    if on < row["last_on"]:
        raise LifecycleError(f"{action} dated {on} is before the previous step ({row['last_on']})", where="--on",
                             hint="steps are recorded in date order; give the real date of this step")
    failures = [reason for guard in transition.get("guards", []) if (reason := _guard(case, row, guard, on))]
    if failures:
        raise LifecycleError(f"cannot {action}: " + "; ".join(failures), where=flow_id,
                             hint=f"{transition['title']} requires this first ({transition['citation']})")
    allowed = transition.get("closure", [])
    if allowed and closure not in allowed:
        raise LifecycleError(f"{action} needs a closure code", where="--closure", hint=f"use one of: {allowed}")
    if closure and not allowed:
        raise LifecycleError(f"{action} does not close the case", where="--closure", hint="drop --closure")
    target = state if transition["to"] == "same" else transition["to"]
    with case.unit_of_work() as work:
        met = _meet_deadlines(case, flow_id, transition.get("meets", []), on)
        extended = _extend_deadline(case, flow_id, transition["extends"], action) if "extends" in transition else None
        started = [_start_deadline(case, flow_id, rule, on, by_post, action) for rule in transition.get("starts", [])]
        seq = case.con.execute("SELECT max(seq) FROM case_transitions WHERE flow_id = ?", [flow_id]).fetchone()[0]
        details = {"closure": closure, "by_post": by_post, "note": note, "started": started, "met": met,
                   "extended": extended, "citation": transition["citation"]}
        case.con.execute("INSERT INTO case_transitions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [flow_id, seq + 1, action, state, target, on, current_actor(),
                          json.dumps(details, ensure_ascii=False)])
        case.con.execute("UPDATE case_flows SET state = ?, last_on = ?, closure = coalesce(?, closure) "
                         "WHERE flow_id = ?", [target, on, closure, flow_id])
        work.log("case_transition", flow_id, None, step=action, from_state=state, to_state=target,
                 on=on.isoformat(), **details)
    return flow_status(case, flow_id)


def _meet_deadlines(case: Case, flow_id: str, rules: list[str], on: date) -> list[dict[str, Any]]:
    if not rules:
        return []
    rows = case.con.execute(
        f"SELECT seq, rule, due FROM case_deadlines WHERE flow_id = ? AND status = 'open' "
        f"AND rule IN ({', '.join('?' for _ in rules)})", [flow_id, *rules]).fetchall()
    met = []
    for seq, rule, due in rows:
        status = "met" if on <= due else "missed"
        case.con.execute("UPDATE case_deadlines SET status = ?, closed_on = ? WHERE flow_id = ? AND seq = ?",
                         [status, on, flow_id, seq])
        met.append({"rule": rule, "due": due.isoformat(), "status": status})
    return met


def _extend_deadline(case: Case, flow_id: str, rule: str, action: str) -> dict[str, Any]:
    row = case.con.execute("SELECT seq, start, extended FROM case_deadlines WHERE flow_id = ? AND rule = ? "
                           "AND status = 'open'", [flow_id, rule]).fetchone()
    if row is None:
        raise LifecycleError(f"{action}: no open {rule} deadline to extend", where=flow_id,
                             hint="only a running deadline can be extended")
    seq, start, already = row
    if already:
        raise LifecycleError(f"{action}: {rule} was already extended", where=flow_id,
                             hint="the law allows one extension")
    deadline = compute_deadline(rule, start, extended=True)
    case.con.execute("UPDATE case_deadlines SET due = ?, extended = TRUE, citation = ? WHERE flow_id = ? AND seq = ?",
                     [deadline.due, deadline.citation, flow_id, seq])
    return {"rule": rule, "due": deadline.due.isoformat()}


def _next_actions(definition: dict[str, Any], state: str) -> list[str]:
    return [t["action"] for t in definition["transitions"] if state in t["from"]]


def open_deadlines(case: Case, flow_id: str | None = None, *, on: date | None = None) -> list[OpenDeadline]:
    """Return the running deadlines of one flow (or of every flow), with working days left as of ``on``."""
    ensure_tables(case)
    sql = "SELECT flow_id, rule, start, received, due, extended, status, citation FROM case_deadlines"
    params: list[Any] = []
    if flow_id:
        sql += " WHERE flow_id = ?"
        params.append(flow_id)
    result = []
    for row in case.con.execute(sql + " ORDER BY due, flow_id", params).fetchall():
        status = row[6]
        days_left = None
        if on is not None and status == "open":
            days_left = (row[4] - on).days
            if days_left < 0:
                status = "overdue"
        result.append(OpenDeadline(*row[:6], status, row[7], days_left))
    return result


def flow_status(case: Case, flow_id: str, *, on: date | None = None) -> FlowStatus:
    """Return the :class:`FlowStatus` of a case flow."""
    row = _flow_row(case, flow_id)
    definition = _flow_definition(row["flow"])
    history = [
        {"seq": seq, "action": action, "from": from_state, "to": to_state, "on": on_date, "actor": actor,
         "details": json.loads(details) if isinstance(details, str) else details}
        for seq, action, from_state, to_state, on_date, actor, details in case.con.execute(
            "SELECT seq, action, from_state, to_state, on_date, actor, details FROM case_transitions "
            "WHERE flow_id = ? ORDER BY seq", [flow_id]).fetchall()
    ]
    state = row["state"]
    return FlowStatus(flow_id, row["flow"], row["subject"], state, definition["states"][state]["title"],
                      row["closure"], row["opened_on"], row["last_on"], history,
                      open_deadlines(case, flow_id, on=on), _next_actions(definition, state))


def list_flows(case: Case) -> list[str]:
    """Return the ids of the case's flows."""
    ensure_tables(case)
    return [r[0] for r in case.con.execute("SELECT flow_id FROM case_flows ORDER BY opened_on, flow_id").fetchall()]

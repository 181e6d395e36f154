"""Case lifecycles: every transition rule of the desk audit (НК РФ ст. 88, 100, 101) and the FOIA flow."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import GOOD_LINES, write_return

from taxaudit.cases.errors import LifecycleError
from taxaudit.cases.lifecycle import advance, flow_status, flows, open_deadlines, open_flow
from taxaudit.cases.ratios import evaluate_ratios
from taxaudit.ingest.returns import load_return
from taxaudit.store import verify_case
from taxaudit.store.case import Case

BROKEN = dict(GOOD_LINES, s3_010_base=Decimal(1250000), s3_010=Decimal(250000))


def due_of(status, rule: str) -> date:
    return next(d.due for d in status.deadlines if d.rule == rule)


def desk_audit(case: Case, tmp_path: Path, lines: dict) -> str:
    load = load_return(case, write_return(tmp_path, "r.xml", lines))
    status = open_flow(case, "ru_desk_audit", subject=load.source_id, on=date(2025, 4, 25))
    return status.flow_id


def test_open_starts_the_vat_desk_audit_term(case: Case, tmp_path: Path) -> None:
    flow_id = desk_audit(case, tmp_path, GOOD_LINES)
    status = flow_status(case, flow_id)
    assert status.state == "received"
    # НК РФ ст. 88 п. 2: two months for a VAT return filed Fri 25 Apr 2025 -> Wed 25 Jun 2025.
    assert due_of(status, "ru.desk_audit_term_vat") == date(2025, 6, 25)
    assert status.next_actions == ["run_checks"]


def test_no_checks_step_before_the_ratios_run_and_clean_close(case: Case, tmp_path: Path) -> None:
    flow_id = desk_audit(case, tmp_path, GOOD_LINES)
    with pytest.raises(LifecycleError, match="not been evaluated"):
        advance(case, flow_id, "run_checks", on=date(2025, 4, 28))
    evaluate_ratios(case)
    advance(case, flow_id, "run_checks", on=date(2025, 4, 28))
    with pytest.raises(LifecycleError, match="found no discrepancy"):
        advance(case, flow_id, "send_request", on=date(2025, 4, 28))
    with pytest.raises(LifecycleError, match="found no discrepancy"):
        advance(case, flow_id, "complete_audit", on=date(2025, 4, 28))
    with pytest.raises(LifecycleError, match="needs a closure code"):
        advance(case, flow_id, "close_clean", on=date(2025, 6, 25))
    status = advance(case, flow_id, "close_clean", on=date(2025, 6, 25), closure="no_violations")
    assert (status.state, status.closure) == ("closed", "no_violations")
    assert [d.status for d in status.deadlines] == ["met"]


def test_full_desk_audit_with_request_act_objections_and_decision(case: Case, tmp_path: Path) -> None:
    flow_id = desk_audit(case, tmp_path, BROKEN)
    evaluate_ratios(case)
    advance(case, flow_id, "run_checks", on=date(2025, 4, 28))
    with pytest.raises(LifecycleError, match="findings are recorded"):
        advance(case, flow_id, "close_clean", on=date(2025, 4, 28), closure="no_violations")
    with pytest.raises(LifecycleError, match="cannot draw_act a case in state 'checks_done'"):
        advance(case, flow_id, "draw_act", on=date(2025, 4, 28))
    status = advance(case, flow_id, "send_request", on=date(2025, 4, 28))
    # Received Mon 28 Apr 2025; 1-4 May and 8-11 May are days off (decree 1335): 29, 30 Apr, 5, 6, 7 May.
    assert due_of(status, "ru.explanations") == date(2025, 5, 7)
    with pytest.raises(LifecycleError, match="runs until 2025-05-07"):
        advance(case, flow_id, "mark_overdue", on=date(2025, 5, 7))
    advance(case, flow_id, "mark_overdue", on=date(2025, 5, 12))
    status = advance(case, flow_id, "receive_answer", on=date(2025, 5, 13))
    assert {d.rule: d.status for d in status.deadlines}["ru.explanations"] == "missed"
    status = advance(case, flow_id, "extend_audit", on=date(2025, 5, 14))
    assert status.state == "answer_received"
    assert due_of(status, "ru.desk_audit_term_vat") == date(2025, 7, 25)  # three months (ст. 88 п. 2 абз. 2)
    with pytest.raises(LifecycleError, match="already extended"):
        advance(case, flow_id, "extend_audit", on=date(2025, 5, 14))
    status = advance(case, flow_id, "complete_audit", on=date(2025, 7, 25))
    # Act within 10 working days after the audit ends Fri 25 Jul 2025: 28 Jul - 8 Aug 2025.
    assert due_of(status, "ru.act") == date(2025, 8, 8)
    status = advance(case, flow_id, "draw_act", on=date(2025, 8, 6))
    assert due_of(status, "ru.act_delivery") == date(2025, 8, 13)
    status = advance(case, flow_id, "deliver_act", on=date(2025, 8, 8), by_post=True)
    objections = next(d for d in status.deadlines if d.rule == "ru.objections")
    # Sent Fri 8 Aug 2025, deemed received on the 6th working day, Mon 18 Aug; one month -> Thu 18 Sep 2025.
    assert (objections.received, objections.due) == (date(2025, 8, 18), date(2025, 9, 18))
    advance(case, flow_id, "receive_objections", on=date(2025, 9, 1))
    with pytest.raises(LifecycleError, match="runs until 2025-09-18"):
        advance(case, flow_id, "decide", on=date(2025, 9, 18), closure="held_liable")
    with pytest.raises(LifecycleError, match="closure"):
        advance(case, flow_id, "decide", on=date(2025, 9, 19))
    status = advance(case, flow_id, "decide", on=date(2025, 9, 19), closure="held_liable")
    assert (status.state, status.closure, status.next_actions) == ("decided", "held_liable", [])
    actions = [event.details.get("step") for event in case.events() if event.action == "case_transition"]
    assert actions == ["run_checks", "send_request", "mark_overdue", "receive_answer", "extend_audit",
                       "complete_audit", "draw_act", "deliver_act", "receive_objections", "decide"]
    case.close()
    assert verify_case(case.root).ok


def test_document_request_needs_an_article_88_ground(case: Case, tmp_path: Path) -> None:
    flow_id = desk_audit(case, tmp_path, BROKEN)
    evaluate_ratios(case)
    advance(case, flow_id, "run_checks", on=date(2025, 4, 28))
    with pytest.raises(LifecycleError, match=r"no article 88 ground applies \(checked: art88.p6.benefits"):
        advance(case, flow_id, "send_document_request", on=date(2025, 4, 28))
    case.con.execute("INSERT INTO invoices (source_id, book, invoice_no, invoice_date, vat_amount) "
                     "VALUES ('books', 'sales', '1', DATE '2025-02-01', 300000)")
    evaluate_ratios(case)
    status = advance(case, flow_id, "send_document_request", on=date(2025, 4, 28))
    # 10 working days from Mon 28 Apr 2025: 29, 30 Apr, 5-7, 12-16 May -> Fri 16 May 2025 (ст. 93 п. 3).
    assert due_of(status, "ru.documents") == date(2025, 5, 16)


def test_explanations_accepted_closes(case: Case, tmp_path: Path) -> None:
    flow_id = desk_audit(case, tmp_path, BROKEN)
    evaluate_ratios(case)
    advance(case, flow_id, "run_checks", on=date(2025, 4, 28))
    advance(case, flow_id, "send_request", on=date(2025, 4, 28))
    advance(case, flow_id, "receive_answer", on=date(2025, 5, 5))
    status = advance(case, flow_id, "accept_explanations", on=date(2025, 5, 20), closure="explanations_accepted")
    assert {d.rule: d.status for d in status.deadlines} == {"ru.desk_audit_term_vat": "met", "ru.explanations": "met"}


def test_bad_steps_are_refused(case: Case, tmp_path: Path) -> None:
    flow_id = desk_audit(case, tmp_path, BROKEN)
    with pytest.raises(LifecycleError, match="no action 'fly'"):
        advance(case, flow_id, "fly", on=date(2025, 4, 28))
    with pytest.raises(LifecycleError, match="before the previous step"):
        advance(case, flow_id, "run_checks", on=date(2025, 4, 1))
    with pytest.raises(LifecycleError, match="no case flow"):
        advance(case, "nope", "run_checks", on=date(2025, 4, 28))
    with pytest.raises(LifecycleError, match="not one"):
        open_flow(case, "ru_desk_audit", subject="missing", on=date(2025, 4, 28))
    with pytest.raises(LifecycleError, match="no lifecycle"):
        open_flow(case, "nope", on=date(2025, 4, 28))
    subject = flow_status(case, flow_id).subject
    with pytest.raises(LifecycleError, match="already exists"):
        open_flow(case, "ru_desk_audit", subject=subject, on=date(2025, 4, 28))
    evaluate_ratios(case)
    with pytest.raises(LifecycleError, match="does not close"):
        advance(case, flow_id, "run_checks", on=date(2025, 4, 28), closure="held_liable")


def test_foia_flow_with_extension_and_closures(case: Case) -> None:
    status = open_flow(case, "us_foia", on=date(2024, 6, 18))
    # 20 working days from Tue 18 Jun 2024 (Juneteenth, 4 July off) -> Thu 18 Jul 2024.
    assert due_of(status, "us.foia_response") == date(2024, 7, 18)
    flow_id = status.flow_id
    advance(case, flow_id, "assign", on=date(2024, 6, 20))
    advance(case, flow_id, "start_search", on=date(2024, 6, 21))
    status = advance(case, flow_id, "extend", on=date(2024, 7, 1))
    assert due_of(status, "us.foia_response") == date(2024, 8, 1)
    advance(case, flow_id, "start_review", on=date(2024, 7, 10))
    with pytest.raises(LifecycleError, match="closure"):
        advance(case, flow_id, "respond", on=date(2024, 7, 30), closure="no_records")
    status = advance(case, flow_id, "respond", on=date(2024, 7, 30), closure="partial_grant")
    assert (status.state, [d.status for d in status.deadlines]) == ("responded", ["met"])


@pytest.mark.parametrize(("steps", "closure", "state"), [
    (["assign"], "imperfect", "closed"),
    ([], "imperfect", "closed"),
    (["assign", "start_search"], "no_records", "closed"),
    (["assign", "start_search", "start_review"], "withdrawn", "closed"),
])
def test_foia_closures(case: Case, steps: list[str], closure: str, state: str) -> None:
    flow_id = open_flow(case, "us_foia", on=date(2025, 11, 20)).flow_id
    for step in steps:
        advance(case, flow_id, step, on=date(2025, 11, 21))
    action = {"imperfect": "close_imperfect", "no_records": "close_no_records", "withdrawn": "withdraw"}[closure]
    status = advance(case, flow_id, action, on=date(2025, 11, 24), closure=closure)
    assert (status.state, status.closure) == (state, closure)


def test_open_deadlines_over_all_flows(case: Case) -> None:
    open_flow(case, "us_foia", on=date(2025, 11, 20))
    deadlines = open_deadlines(case, on=date(2025, 12, 22))
    assert [(d.rule, d.due, d.status, d.days_left) for d in deadlines] == [
        ("us.foia_response", date(2025, 12, 19), "overdue", -3)]


def test_every_flow_definition_is_consistent() -> None:
    definitions = flows()["flows"]
    for flow in definitions.values():
        finals = [name for name, state in flow["states"].items() if state.get("final")]
        for transition in flow["transitions"]:
            if transition["to"] in finals:
                assert transition.get("closure"), transition["action"]
            assert transition["citation"]

"""Request register with FOIA due dates, and the authorization check that blocks unauthorized releases."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from disclose_fixtures import REQUESTER, REQUESTER_SSN

from taxaudit.disclose.authorization import add_authorization, check_authorization, require_authorization
from taxaudit.disclose.due import response_due
from taxaudit.disclose.errors import AuthorizationError, DisclosureError
from taxaudit.disclose.register import DisclosureRequest, add_request, close_request, list_requests
from taxaudit.store import Case, verify_case

# OPM's federal holidays 2026 and January 2027 (Independence Day 2026 observed on Friday July 3).
OPM_HOLIDAYS = ["2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07",
                "2026-10-12", "2026-11-11", "2026-11-26", "2026-12-25", "2027-01-01", "2027-01-18"]
REPRESENTATIVE = "Smith & Co CPA"


@pytest.mark.parametrize(("received", "expected"), [
    (date(2026, 11, 20), date(2026, 12, 21)),  # skips Thanksgiving, Nov 26
    (date(2026, 12, 18), date(2027, 1, 20)),   # skips Christmas, New Year's Day and MLK Day 2027
    (date(2026, 6, 18), date(2026, 7, 20)),    # skips Juneteenth and Independence Day observed (Jul 3)
])
def test_foia_due_date_is_twenty_working_days(received: date, expected: date) -> None:
    # 5 U.S.C. § 552(a)(6)(A)(i): 20 days excepting Saturdays, Sundays and legal public holidays.
    independent = np.busday_offset(np.datetime64(received), 20, roll="forward", holidays=OPM_HOLIDAYS)
    assert expected == independent.astype(date)
    assert response_due("foia", received)[0] == expected


def test_unusual_circumstances_add_ten_working_days(case: Case) -> None:
    # 5 U.S.C. § 552(a)(6)(B)(i): 30 working days in all; Dec 25 and Jan 1 are skipped.
    independent = np.busday_offset(np.datetime64("2026-11-20"), 30, roll="forward", holidays=OPM_HOLIDAYS)
    request = add_request(case, request_type="foia", requester="X", records_sought="r", received=date(2026, 11, 20),
                          unusual_circumstances=True)
    assert request.due_date == independent.astype(date) == date(2027, 1, 6)
    assert "552(a)(6)(B)(i)" in request.due_rule


def test_register_stores_due_date_status_and_logs(case: Case, request_: DisclosureRequest) -> None:
    assert request_.due_date == date(2026, 12, 21) and request_.status == "open"
    assert "552(a)(6)(A)(i)" in request_.due_rule and "us.foia_response" in request_.due_rule
    closed = close_request(case, request_.request_id, "partially denied", date(2026, 12, 22))
    assert closed.status == "closed" and closed.closure_code == "partially denied"
    assert [r.request_id for r in list_requests(case, status="closed")] == [request_.request_id]
    events = [e for e in case.events() if e.subject == request_.request_id]
    assert [e.action for e in events] == ["request_registered", "request_closed"]
    assert events[1].details["after_due_date"] is True
    case.close()
    assert verify_case(case.root).ok


def test_section_6103_requests_have_no_statutory_due_date(case: Case) -> None:
    request = add_request(case, request_type="6103c", requester=REPRESENTATIVE, records_sought="transcripts",
                          received=date(2026, 3, 2), taxpayer_tax_id=REQUESTER_SSN)
    assert request.due_date is None and "no statutory" in request.due_rule


@pytest.mark.parametrize(("options", "message"), [
    ({"request_type": "letter"}, "unknown request type"),
    ({"request_type": "6103e"}, "must name the taxpayer"),
    ({"requester": "  "}, "needs a requester"),
])
def test_bad_requests_are_refused(case: Case, options: dict, message: str) -> None:
    base = {"request_type": "foia", "requester": "X", "records_sought": "r", "received": date(2026, 1, 5)}
    with pytest.raises(DisclosureError, match=message):
        add_request(case, **{**base, **options})


def test_bad_closures_are_refused(case: Case, request_: DisclosureRequest) -> None:
    with pytest.raises(DisclosureError, match="unknown closure code"):
        close_request(case, request_.request_id, "withdrawn", date(2026, 12, 1))
    with pytest.raises(DisclosureError, match="before it was received"):
        close_request(case, request_.request_id, "granted", date(2026, 1, 1))
    with pytest.raises(DisclosureError, match="no request"):
        close_request(case, "REQ-none", "granted", date(2026, 12, 1))


def third_party_request(case: Case, *, matter: str = "1040", periods: tuple[str, ...] = ("2023",)) -> str:
    return add_request(case, request_type="6103c", requester=REPRESENTATIVE, records_sought="2023 exam file",
                       received=date(2026, 3, 2), taxpayer=REQUESTER, taxpayer_tax_id=REQUESTER_SSN,
                       matter=matter, periods=list(periods)).request_id


def form_8821(case: Case, **changes: object) -> None:
    fields = {"form": "8821", "taxpayer_tax_id": REQUESTER_SSN, "representative": REPRESENTATIVE,
              "matters": ["1040"], "periods": ["2022", "2023"], "signed": date(2026, 1, 10),
              "received": date(2026, 2, 1), "taxpayer": REQUESTER}
    add_authorization(case, **{**fields, **changes})


def test_a_covering_8821_allows_release_and_the_check_is_logged(case: Case) -> None:
    request_id = third_party_request(case)
    form_8821(case)
    decision = check_authorization(case, request_id, on=date(2026, 3, 10))
    assert decision.allowed and decision.basis == "Form 8821 on file" and decision.authorization_id
    assert case.events()[-1].action == "authorization_checked"


@pytest.mark.parametrize(("changes", "request_options", "condition"), [
    ({"expires": date(2026, 3, 1)}, {}, "expired"),
    ({"revoked": date(2026, 3, 5)}, {}, "revoked"),
    ({}, {"periods": ("2021",)}, "period"),
    ({}, {"matter": "941"}, "matter"),
    ({"signed": date(2025, 9, 1)}, {}, "received_in_time"),   # 153 days > 120 (26 C.F.R. § 301.6103(c)-1)
    ({"signed": None}, {}, "signature"),
    ({"representative": "Other Firm LLP"}, {}, "requester"),
    ({"taxpayer_tax_id": "111-22-3333"}, {}, "on_file"),
])
def test_an_expired_or_out_of_scope_authorization_blocks_release(case: Case, changes: dict, request_options: dict,
                                                                 condition: str) -> None:
    request_id = third_party_request(case, **request_options)
    form_8821(case, **changes)
    decision = check_authorization(case, request_id, on=date(2026, 3, 10))
    assert not decision.allowed
    assert condition in [f.condition for f in decision.failures]
    with pytest.raises(AuthorizationError, match=condition):
        require_authorization(case, request_id, on=date(2026, 3, 10))


def test_future_periods_count_only_three_years_after_receipt(case: Case) -> None:
    request_id = third_party_request(case, periods=("2030",))
    form_8821(case, periods=["2029", "2030"])
    decision = check_authorization(case, request_id, on=date(2026, 3, 10))
    assert not decision.allowed
    assert "beyond 3 years" in decision.failures[0].detail


def test_the_taxpayer_asking_for_her_own_file_needs_no_authorization(case: Case,
                                                                     request_: DisclosureRequest) -> None:
    decision = check_authorization(case, request_.request_id, on=date(2026, 12, 1))
    assert decision.allowed and decision.basis == "requester is the taxpayer"


@pytest.mark.parametrize(("changes", "message"), [
    ({"form": "4506"}, "unknown authorization form"),
    ({"matters": []}, "must list the tax matters"),
    ({"periods": ["FY23"]}, "bad period"),
    ({"taxpayer_tax_id": "n/a"}, "needs the taxpayer's tax id"),
])
def test_bad_authorizations_are_refused(case: Case, changes: dict, message: str) -> None:
    with pytest.raises(DisclosureError, match=message):
        form_8821(case, **changes)

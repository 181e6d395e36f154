"""Response due dates of disclosure requests, from the deadline engine (``taxaudit.cases.deadlines``)."""

from __future__ import annotations

from datetime import date

from taxaudit.cases.deadlines import compute_deadline

FOIA_RULE = "us.foia_response"
NO_STATUTORY_LIMIT = "no statutory response period for I.R.C. § 6103(c)/(e) requests"


def response_due(request_type: str, received: date, *, unusual_circumstances: bool = False) -> tuple[date | None, str]:
    """Return (due date, rule and citation) of a request received on ``received``.

    FOIA requests are due 20 working days after receipt, 30 when the agency gives written notice of unusual
    circumstances (5 U.S.C. § 552(a)(6)(A)(i), (B)(i)), computed by the deadline engine's ``us.foia_response``
    rule on the U.S. federal calendar. I.R.C. § 6103(c)/(e) requests have no statutory response period.
    """
    if request_type != "foia":
        return None, NO_STATUTORY_LIMIT
    deadline = compute_deadline(FOIA_RULE, received, "US", extended=unusual_circumstances)
    return deadline.due, f"{deadline.rule}: {deadline.citation}"

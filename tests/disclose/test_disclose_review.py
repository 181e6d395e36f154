"""Oversight review of closed requests: seeded sample, reviewer results, Clopper-Pearson projection (seed 000)."""

from __future__ import annotations

from datetime import date

import pytest
from scipy.stats import binom, binomtest

from taxaudit.disclose.errors import DisclosureError
from taxaudit.disclose.register import add_request, close_request
from taxaudit.disclose.review import clopper_pearson, draw_review_sample, project_review, record_review_result
from taxaudit.store import Case

CLOSURES = ["partially denied", "denied", "no records", "imperfect", "granted"]


def closed_requests(case: Case, count: int) -> list[str]:
    ids = []
    for number in range(count):
        request = add_request(case, request_type="foia", requester=f"Requester {number}", records_sought="file",
                              received=date(2026, 1, 5))
        close_request(case, request.request_id, CLOSURES[number % len(CLOSURES)], date(2026, 2, 2))
        ids.append(request.request_id)
    return ids


def test_tigta_fy2023_error_rate_and_its_exact_interval() -> None:
    # Seed 000 (TIGTA 2023-10-055): 18 of 83 sampled FOIA requests had errors, "22 percent", 90% confidence.
    lower, upper = clopper_pearson(18, 83, 0.90)
    assert round(18 / 83 * 100) == 22
    exact = binomtest(18, 83).proportion_ci(confidence_level=0.90, method="exact")
    assert lower == pytest.approx(exact.low, abs=1e-12) and upper == pytest.approx(exact.high, abs=1e-12)
    # The defining tail probabilities of the Clopper-Pearson bounds: each tail holds alpha / 2 = 5%.
    assert binom.sf(17, 83, lower) == pytest.approx(0.05, abs=1e-9)
    assert binom.cdf(18, 83, upper) == pytest.approx(0.05, abs=1e-9)
    assert (round(lower, 4), round(upper, 4)) == (0.1451, 0.3044)


def test_interval_edges_and_bad_input() -> None:
    assert clopper_pearson(0, 10, 0.9)[0] == 0.0
    assert clopper_pearson(10, 10, 0.9)[1] == 1.0
    with pytest.raises(DisclosureError):
        clopper_pearson(3, 0, 0.9)
    with pytest.raises(DisclosureError, match="confidence"):
        clopper_pearson(1, 10, 1.5)


def test_seeded_sample_is_reproducible_and_limited_to_reviewed_closures(case: Case) -> None:
    closed_requests(case, 20)
    first = draw_review_sample(case, 6, seed=20231)
    second = draw_review_sample(case, 6, seed=20231)
    other = draw_review_sample(case, 6, seed=7)
    assert first.population == 16  # granted requests are not in TIGTA's review population
    assert first.request_ids == second.request_ids != other.request_ids
    assert len(set(first.request_ids)) == 6
    event = next(e for e in case.events() if e.subject == first.review_id)
    assert event.action == "review_sample_drawn" and event.details["seed"] == 20231
    with pytest.raises(DisclosureError, match="cannot draw"):
        draw_review_sample(case, 17, seed=1)


def test_reviewer_results_are_projected_to_the_population(case: Case) -> None:
    closed_requests(case, 20)
    sample = draw_review_sample(case, 5, seed=11)
    for position, request_id in enumerate(sample.request_ids):
        error = position < 2
        kinds = ["inconsistent_redaction"] if error else []
        record_review_result(case, sample.review_id, request_id, reviewer="auditor", error=error, error_kinds=kinds)
    projection = project_review(case, sample.review_id, confidence=0.90)
    lower, upper = clopper_pearson(2, 5, 0.90)
    assert (projection.reviewed, projection.errors, projection.error_rate) == (5, 2, 0.4)
    assert projection.projected_errors == pytest.approx(0.4 * 16)
    assert (projection.projected_lower, projection.projected_upper) == pytest.approx((lower * 16, upper * 16))
    assert projection.error_kinds == {"inconsistent_redaction": 2}


def test_bad_review_results_are_refused(case: Case) -> None:
    closed_requests(case, 5)
    sample = draw_review_sample(case, 2, seed=3)
    request_id = sample.request_ids[0]
    with pytest.raises(DisclosureError, match="not in review sample"):
        record_review_result(case, sample.review_id, "REQ-other", reviewer="a", error=False)
    with pytest.raises(DisclosureError, match="must say what kind"):
        record_review_result(case, sample.review_id, request_id, reviewer="a", error=True)
    with pytest.raises(DisclosureError, match="unknown error kind"):
        record_review_result(case, sample.review_id, request_id, reviewer="a", error=True, error_kinds=["typo"])
    with pytest.raises(DisclosureError, match="no results"):
        project_review(case, sample.review_id)
    with pytest.raises(DisclosureError, match="unknown closure code"):
        draw_review_sample(case, 1, seed=1, closure_codes=["withdrawn"])

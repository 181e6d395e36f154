"""Oversight review of closed requests: a seeded sample, reviewer results per case, and a projected error rate.

This is the review TIGTA runs every year (seed 000): a sample of closed FOIA requests, each checked for
improper redaction or release, and the error rate projected to the population with a confidence interval.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy.stats import beta

from taxaudit.disclose.errors import DisclosureError
from taxaudit.disclose.register import CLOSURE_CODES
from taxaudit.disclose.tables import ensure_tables, new_id, rows
from taxaudit.store import Case

# TIGTA's review population: requests closed as denied, partially denied, imperfect or no records (seed 000).
REVIEWED_CLOSURES = ("partially denied", "denied", "no records", "imperfect")
ERROR_KINDS = {
    "improper_redaction": "information withheld that should have been released",
    "improper_release": "protected information released",
    "inconsistent_redaction": "the same information withheld in one place and released in another",
    "invalid_authorization": "released or denied without a valid authorization on file",
    "inadequate_search": "records search not adequate or not documented",
}


@dataclass(frozen=True)
class ReviewSample:
    """A drawn sample: review id, seed, population size and the sampled request ids in draw order."""

    review_id: str
    seed: int
    population: int
    population_sha256: str
    request_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReviewProjection:
    """Errors found in the reviewed cases and the error rate projected to the population (Clopper-Pearson)."""

    review_id: str
    population: int
    sample_size: int
    reviewed: int
    errors: int
    error_rate: float
    confidence: float
    rate_lower: float
    rate_upper: float
    projected_errors: float
    projected_lower: float
    projected_upper: float
    error_kinds: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def clopper_pearson(errors: int, reviewed: int, confidence: float) -> tuple[float, float]:
    """Return the two-sided exact (Clopper-Pearson 1934) interval for a binomial rate: beta quantiles."""
    if reviewed <= 0 or not 0 <= errors <= reviewed:
        raise DisclosureError(f"cannot form an interval from {errors} errors in {reviewed} cases")
    if not 0 < confidence < 1:
        raise DisclosureError(f"confidence must lie between 0 and 1, not {confidence}", hint="e.g. --confidence 0.90")
    alpha = 1 - confidence
    lower = 0.0 if errors == 0 else float(beta.ppf(alpha / 2, errors, reviewed - errors + 1))
    upper = 1.0 if errors == reviewed else float(beta.ppf(1 - alpha / 2, errors + 1, reviewed - errors))
    return lower, upper


def draw_review_sample(case: Case, size: int, seed: int, *,
                       closure_codes: Sequence[str] = REVIEWED_CLOSURES) -> ReviewSample:
    """Draw ``size`` closed requests without replacement with NumPy's PCG64 seeded by ``seed``; log the draw.

    The population is ordered by request id before drawing, so the same register and seed give the same sample.
    """
    bad = [code for code in closure_codes if code not in CLOSURE_CODES]
    if bad:
        raise DisclosureError(f"unknown closure code {bad[0]!r}", hint=f"use: {', '.join(CLOSURE_CODES)}")
    ensure_tables(case)
    marks = ",".join("?" * len(closure_codes))
    population = [r["request_id"] for r in rows(
        case, f"SELECT request_id FROM disclose_requests WHERE status = 'closed' AND closure_code IN ({marks}) "
              "ORDER BY request_id", list(closure_codes))]
    if not 0 < size <= len(population):
        raise DisclosureError(f"cannot draw {size} from {len(population)} closed requests",
                              hint="choose a sample size between 1 and the population size")
    generator = np.random.Generator(np.random.PCG64(seed))
    picks = generator.choice(len(population), size=size, replace=False)
    chosen = [population[int(i)] for i in picks]
    digest = hashlib.sha256("\n".join(population).encode()).hexdigest()
    review_id = new_id("REV")
    now = datetime.now(UTC).replace(tzinfo=None)
    with case.unit_of_work() as work:
        for order, request_id in enumerate(chosen, start=1):
            case.con.execute("INSERT INTO disclose_review_samples VALUES (?, ?, ?, ?, ?, ?)",
                             [review_id, request_id, order, len(population), seed, now])
        work.log("review_sample_drawn", review_id, None, seed=seed, generator="numpy PCG64", size=size,
                 population=len(population), population_sha256=digest, closure_codes=list(closure_codes))
    return ReviewSample(review_id, seed, len(population), digest, chosen)


def record_review_result(case: Case, review_id: str, request_id: str, *, reviewer: str, error: bool,
                         error_kinds: Sequence[str] = (), note: str | None = None) -> dict[str, Any]:
    """Record the reviewer's result for one sampled request (replacing an earlier one) and log it."""
    ensure_tables(case)
    if not rows(case, "SELECT 1 FROM disclose_review_samples WHERE review_id = ? AND request_id = ?",
                [review_id, request_id]):
        raise DisclosureError(f"request {request_id} is not in review sample {review_id}",
                              hint="record results only for sampled requests (taxaudit disclose review sample)")
    unknown = [k for k in error_kinds if k not in ERROR_KINDS]
    if unknown:
        raise DisclosureError(f"unknown error kind {unknown[0]!r}", hint=f"use: {', '.join(ERROR_KINDS)}")
    if error and not error_kinds:
        raise DisclosureError("an error result must say what kind of error it is",
                              hint=f"give --kind, one of: {', '.join(ERROR_KINDS)}")
    if not error and error_kinds:
        raise DisclosureError("a result without error cannot list error kinds")
    with case.unit_of_work() as work:
        case.con.execute("DELETE FROM disclose_review_results WHERE review_id = ? AND request_id = ?",
                         [review_id, request_id])
        case.con.execute("INSERT INTO disclose_review_results VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [review_id, request_id, reviewer, error, json.dumps(list(error_kinds)), note,
                          datetime.now(UTC).replace(tzinfo=None)])
        work.log("review_result_recorded", request_id, None, review_id=review_id, reviewer=reviewer, error=error,
                 error_kinds=list(error_kinds))
    return {"review_id": review_id, "request_id": request_id, "reviewer": reviewer, "error": error,
            "error_kinds": list(error_kinds), "note": note}


def project_review(case: Case, review_id: str, *, confidence: float = 0.90) -> ReviewProjection:
    """Return the reviewed error rate and its projection to the population with a Clopper-Pearson interval.

    An unstratified sample is assumed (TIGTA stratifies; with one stratum the estimate is errors/reviewed).
    """
    ensure_tables(case)
    sample = rows(case, "SELECT request_id, population FROM disclose_review_samples WHERE review_id = ?",
                  [review_id])
    if not sample:
        raise DisclosureError(f"no review sample {review_id!r}", hint="draw one with: taxaudit disclose review sample")
    results = rows(case, "SELECT error, error_kinds FROM disclose_review_results WHERE review_id = ?", [review_id])
    if not results:
        raise DisclosureError(f"no results recorded for review {review_id}",
                              hint="record them with: taxaudit disclose review record")
    population = int(sample[0]["population"])
    reviewed = len(results)
    errors = sum(1 for r in results if r["error"])
    lower, upper = clopper_pearson(errors, reviewed, confidence)
    kinds = Counter(kind for r in results for kind in json.loads(r["error_kinds"]))
    rate = errors / reviewed
    return ReviewProjection(review_id, population, len(sample), reviewed, errors, rate, confidence, lower, upper,
                            rate * population, lower * population, upper * population, dict(sorted(kinds.items())))

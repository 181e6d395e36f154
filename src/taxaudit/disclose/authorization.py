"""Authorizations on file (Forms 2848, 8821, written consents, § 6103(e) proof) and the release check."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Any

import yaml

from taxaudit.disclose.errors import AuthorizationError, DisclosureError
from taxaudit.disclose.register import DisclosureRequest, get_request
from taxaudit.disclose.tables import ensure_tables, new_id, rows
from taxaudit.store import Case


@dataclass(frozen=True)
class AuthorizationForm:
    """What one kind of authorization allows: future periods and how soon after signing it must arrive."""

    form: str
    title: str
    citation: str
    max_future_years: int
    receive_within_days: int | None


@dataclass(frozen=True)
class Authorization:
    """One authorization on file."""

    authorization_id: str
    form: str
    taxpayer: str | None
    taxpayer_tax_id: str
    representative: str
    representative_id: str | None
    matters: list[str]
    periods: list[str]
    signed_date: date | None
    received_date: date
    expires_date: date | None
    revoked_date: date | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ConditionFailure:
    """A condition an authorization does not meet, with the facts that show it."""

    authorization_id: str | None
    condition: str
    detail: str


@dataclass(frozen=True)
class AuthorizationDecision:
    """Whether a release to the requester is authorized, by which authorization, or which condition failed."""

    request_id: str
    on: date
    allowed: bool
    basis: str
    authorization_id: str | None = None
    failures: list[ConditionFailure] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@cache
def authorization_forms() -> dict[str, AuthorizationForm]:
    """Return the packaged authorization rules (``authorization_rules.yaml``) by form."""
    text = resources.files("taxaudit.disclose").joinpath("authorization_rules.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return {
        str(name): AuthorizationForm(str(name), entry["title"], entry["citation"], int(entry["max_future_years"]),
                                     entry.get("receive_within_days"))
        for name, entry in data["forms"].items()
    }


def _tin(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def _name(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def _from_row(row: dict[str, Any]) -> Authorization:
    row = dict(row)
    row.pop("created_at", None)
    row["matters"] = json.loads(row["matters"])
    row["periods"] = json.loads(row["periods"])
    return Authorization(**row)


def add_authorization(case: Case, *, form: str, taxpayer_tax_id: str, representative: str,
                      matters: Sequence[str], periods: Sequence[str], received: date,
                      signed: date | None = None, taxpayer: str | None = None,
                      representative_id: str | None = None, expires: date | None = None,
                      revoked: date | None = None) -> Authorization:
    """Record an authorization on file and log ``authorization_recorded``."""
    forms = authorization_forms()
    if form not in forms:
        raise DisclosureError(f"unknown authorization form {form!r}", hint=f"use one of: {', '.join(forms)}")
    if not _tin(taxpayer_tax_id) or not representative.strip():
        raise DisclosureError("an authorization needs the taxpayer's tax id and the representative",
                              hint="give --taxpayer-tax-id and --representative")
    if not matters or not periods:
        raise DisclosureError("an authorization must list the tax matters and the periods it covers",
                              hint="give --matter (e.g. 1040) and --period (e.g. 2023) at least once each")
    bad = [p for p in periods if not re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2]|Q[1-4]))?", p)]
    if bad:
        raise DisclosureError(f"bad period {bad[0]!r}", hint="write periods as YYYY, YYYY-MM or YYYY-Q1..Q4")
    ensure_tables(case)
    authorization_id = new_id("AUTH")
    with case.unit_of_work() as work:
        case.con.execute(
            "INSERT INTO disclose_authorizations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [authorization_id, form, taxpayer, taxpayer_tax_id, representative.strip(), representative_id,
             json.dumps(list(matters)), json.dumps(list(periods)), signed, received, expires, revoked,
             datetime.now(UTC).replace(tzinfo=None)])
        work.log("authorization_recorded", authorization_id, None, form=form, taxpayer_tax_id=taxpayer_tax_id,
                 representative=representative, matters=list(matters), periods=list(periods))
    return list_authorizations(case, authorization_id=authorization_id)[0]


def list_authorizations(case: Case, *, taxpayer_tax_id: str | None = None,
                        authorization_id: str | None = None) -> list[Authorization]:
    """Return the authorizations on file, optionally for one taxpayer or one id."""
    ensure_tables(case)
    found = [_from_row(r) for r in rows(case, "SELECT * FROM disclose_authorizations ORDER BY received_date")]
    if taxpayer_tax_id:
        found = [a for a in found if _tin(a.taxpayer_tax_id) == _tin(taxpayer_tax_id)]
    if authorization_id:
        found = [a for a in found if a.authorization_id == authorization_id]
    return found


def _period_year(period: str) -> int:
    return int(period[:4])


def evaluate(authorization: Authorization, request: DisclosureRequest, on: date) -> list[ConditionFailure]:
    """Return every condition ``authorization`` fails for releasing ``request``'s records on ``on`` (none: valid).

    Conditions: a known form, the same taxpayer, the requester as the named representative, the tax matter and
    every period requested listed (future periods only up to the form's limit after receipt, Instructions for
    Forms 2848/8821), signed, received within the form's window after signing (26 C.F.R. § 301.6103(c)-1),
    not expired and not revoked on the release date.
    """
    aid = authorization.authorization_id
    failures: list[ConditionFailure] = []

    def fail(condition: str, detail: str) -> None:
        failures.append(ConditionFailure(aid, condition, detail))

    rules = authorization_forms().get(authorization.form)
    if rules is None:
        fail("form", f"form {authorization.form!r} is not an authorization this tool knows")
        return failures
    if _tin(authorization.taxpayer_tax_id) != _tin(request.taxpayer_tax_id):
        fail("taxpayer", "the authorization is for a different taxpayer")
    same_name = _name(authorization.representative) == _name(request.requester)
    same_id = bool(authorization.representative_id) and _tin(authorization.representative_id) == _tin(
        request.requester_tax_id)
    if not (same_name or same_id):
        fail("requester", f"the authorization names {authorization.representative!r}, "
                          f"not the requester {request.requester!r}")
    matters = {_name(m) for m in authorization.matters}
    if not request.matter:
        fail("matter", "the request does not name a tax matter (form or type of tax) to check against")
    elif _name(request.matter) not in matters:
        fail("matter", f"tax matter {request.matter!r} is not among {authorization.matters}")
    last_year = authorization.received_date.year + rules.max_future_years
    listed = {p for p in authorization.periods if _period_year(p) <= last_year}
    too_far = sorted(set(authorization.periods) - listed)
    if not request.periods:
        fail("period", "the request does not name the periods sought")
    else:
        missing = [p for p in request.periods if p not in listed and p[:4] not in listed]
        if missing:
            beyond = f" ({', '.join(too_far)} lie beyond {rules.max_future_years} years after receipt)"
            extra = beyond if too_far else ""
            fail("period", f"period(s) {', '.join(missing)} not covered{extra}")
    if authorization.signed_date is None:
        fail("signature", "the authorization is not signed and dated")
    elif rules.receive_within_days is not None:
        days = (authorization.received_date - authorization.signed_date).days
        if days > rules.receive_within_days:
            fail("received_in_time", f"received {days} days after signature; Form {authorization.form} must be "
                                     f"received within {rules.receive_within_days} days ({rules.citation})")
    if authorization.signed_date is not None and on < authorization.signed_date:
        fail("signature", f"release date {on} is before the signature date {authorization.signed_date}")
    if authorization.expires_date is not None and on > authorization.expires_date:
        fail("expired", f"expired on {authorization.expires_date}")
    if authorization.revoked_date is not None and on >= authorization.revoked_date:
        fail("revoked", f"revoked on {authorization.revoked_date}")
    return failures


def check_authorization(case: Case, request_id: str, *, on: date | None = None) -> AuthorizationDecision:
    """Return whether the records of ``request_id`` may be released to its requester on ``on``; log the check.

    A requester asking for their own records needs no authorization; anyone else needs one authorization on
    file that meets every condition of :func:`evaluate` (I.R.C. § 6103(c)/(e); TIGTA 2023-10-055 p. 6).
    """
    request = get_request(case, request_id)
    on = on or date.today()
    if not request.third_party:
        basis = "no taxpayer information sought" if not request.taxpayer_tax_id else "requester is the taxpayer"
        decision = AuthorizationDecision(request_id, on, True, basis)
    else:
        candidates = list_authorizations(case, taxpayer_tax_id=request.taxpayer_tax_id)
        evaluated = [(a, evaluate(a, request, on)) for a in candidates]
        valid = [a for a, failures in evaluated if not failures]
        if valid:
            decision = AuthorizationDecision(request_id, on, True, f"Form {valid[0].form} on file",
                                             valid[0].authorization_id)
        elif not evaluated:
            decision = AuthorizationDecision(request_id, on, False, "no authorization on file", None, [
                ConditionFailure(None, "on_file", f"no authorization on file for taxpayer {request.taxpayer_tax_id}")])
        else:
            closest, failures = min(evaluated, key=lambda pair: len(pair[1]))
            decision = AuthorizationDecision(request_id, on, False, f"Form {closest.form} does not cover the release",
                                             closest.authorization_id, failures)
    with case.unit_of_work() as work:
        work.log("authorization_checked", request_id, None, on=on.isoformat(), allowed=decision.allowed,
                 authorization_id=decision.authorization_id,
                 failed=[f.condition for f in decision.failures])
    return decision


def require_authorization(case: Case, request_id: str, *, on: date | None = None) -> AuthorizationDecision:
    """Return the decision if release is authorized; raise :class:`AuthorizationError` naming what failed."""
    decision = check_authorization(case, request_id, on=on)
    if not decision.allowed:
        detail = "; ".join(f"{f.condition}: {f.detail}" for f in decision.failures)
        raise AuthorizationError(f"release refused: {decision.basis} ({detail})",
                                 where=f"request {request_id}, authorization {decision.authorization_id or '-'}",
                                 hint="obtain a valid Form 2848/8821 or written consent covering the requester, "
                                      "taxpayer, tax matter and periods, then record it with: "
                                      "taxaudit disclose auth add")
    return decision

"""Redaction rules as data, matching, and plain-text redaction."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxaudit.disclose.errors import RedactionError, RuleFileError
from taxaudit.disclose.rules import Terms, find_matches, load_rule_pack, over_redaction, same_identifier
from taxaudit.disclose.text_redact import TextSpan, redact_text

PACK = load_rule_pack()


def values(text: str, terms: Terms | None = None, on: date | None = None) -> list[tuple[str, str, str]]:
    return [(m.rule_id, m.value, m.exemption) for m in find_matches(text, PACK, terms, on=on)]


def test_packaged_rules_cite_an_exemption_for_every_rule() -> None:
    assert PACK.version and "2023-10-055" in PACK.source
    for rule in PACK.rules:
        assert rule.exemption in PACK.exemptions
        assert PACK.exemptions[rule.exemption].citation.startswith("5 U.S.C. § 552(b)")
    assert "6103(a)" in PACK.exemptions["(b)(3)/6103(a)"].citation


def test_dif_score_value_is_withheld_but_the_label_is_released() -> None:
    # TIGTA 2023-10-055 p. 5: the phrasing "DIF Score" is not protected under (b)(7)(E); the score is.
    assert values("DIF Score: 4321") == [("dif_score", "4321", "(b)(7)(E)")]
    assert over_redaction("DIF Score", PACK) is not None
    assert over_redaction("4321", PACK) is None


def test_form_code_rule_starts_with_the_august_2021_irm_update() -> None:
    # IRM 11.3.41.13.8.9 (Aug. 26, 2021) added the form code to the DIF indicators to redact (seed 000 fn. 11).
    assert values("Form Code: 27", on=date(2021, 8, 26)) == [("dif_form_code", "27", "(b)(7)(E)")]
    assert values("Form Code: 27", on=date(2021, 8, 25)) == []


def test_identifiers_names_accounts_and_tolerances() -> None:
    text = "SSN 987-65-4321, EIN 12-3456789, account no. 4400123456, Tolerance: under $2,500; John Q  Public"
    found = values(text, Terms({"names": ["John Q Public"]}))
    assert found == [("ssn", "987-65-4321", "(b)(3)/6103(a)"), ("ein", "12-3456789", "(b)(3)/6103(a)"),
                     ("bank_account", "4400123456", "(b)(3)/6103(a)"),
                     ("tolerance_criteria", "under $2,500", "(b)(7)(E)"),
                     ("third_party_name", "John Q  Public", "(b)(7)(C)")]


def test_the_requesters_own_identifiers_are_never_matched() -> None:
    terms = Terms({"names": ["Jane Roe", "John Q Public"]}, allow=["Jane Roe", "123-45-6789"])
    found = values("Jane Roe 123-45-6789 and John Q Public 987-65-4321 and EIN 12-3456789", terms)
    assert [v for _, v, _ in found] == ["John Q Public", "987-65-4321", "12-3456789"]


def test_same_identifier_needs_equal_digits_in_equal_groups() -> None:
    assert same_identifier("123-45-6789", "123456789")
    assert same_identifier("123 45 6789", "123-45-6789")
    assert not same_identifier("12-3456789", "123-45-6789")
    assert same_identifier("Jane  ROE", "jane roe")


def test_text_document_redaction_with_a_manual_span() -> None:
    text = "Witness: John Q Public\nSSN 987-65-4321\fpage two: informant met agent Smith"
    redacted, spans = redact_text(text, PACK, Terms({"names": ["John Q Public"]}),
                                  manual=[TextSpan(2, 1, 30, 35, "(b)(7)(C)", "agent name", "kim")])
    assert redacted == ("Witness: [REDACTED (b)(7)(C)]\nSSN [REDACTED (b)(3)/6103(a)]\f"
                        "page two: informant met agent [REDACTED (b)(7)(C)]")
    assert [(s.page, s.line, s.start, s.end, s.rule_id or s.reviewer) for s in spans] == [
        (1, 1, 9, 22, "third_party_name"), (1, 2, 4, 15, "ssn"), (2, 1, 30, 35, "kim")]


def test_manual_span_outside_the_text_is_refused() -> None:
    with pytest.raises(RedactionError, match="outside the text"):
        redact_text("one line", PACK, manual=[TextSpan(1, 2, 0, 3, "(b)(6)", "x")])


@settings(max_examples=60, deadline=None)
@given(area=st.integers(1, 899), group=st.integers(1, 99), serial=st.integers(1, 9999),
       before=st.text(alphabet="abc XYZ.,:;\n", max_size=30), after=st.text(alphabet="abc XYZ.,:;\n", max_size=30))
def test_no_ssn_survives_text_redaction(area: int, group: int, serial: int, before: str, after: str) -> None:
    ssn = f"{area:03d}-{group:02d}-{serial:04d}"
    redacted, spans = redact_text(f"{before} {ssn} {after}", PACK)
    assert ssn not in redacted and not re.search(r"\d{3}-\d{2}-\d{4}", redacted)
    assert [s.value for s in spans] == [ssn]


@pytest.mark.parametrize(("content", "message"), [
    ("rules: [", "not valid YAML"),
    ("exemptions: {}\nrules: []", "needs 'exemptions'"),
    ("exemptions: {X: {title: t, citation: c}}\nrules: [{id: a, entity: e, exemption: Y, reason: r, pattern: x}]",
     "unknown exemption"),
    ("exemptions: {X: {title: t, citation: c}}\nrules: [{id: a, entity: e, exemption: X, reason: r, pattern: '('}]",
     "bad regular expression"),
    ("exemptions: {X: {title: t, citation: c}}\nrules: [{id: a, entity: e, exemption: X, reason: r}]",
     "exactly one of"),
    ("exemptions: {X: {title: t, citation: c}}\nrules: [{id: a, exemption: X, reason: r, pattern: x}]",
     "missing entity"),
    ("exemptions: {X: {title: t, citation: c}}\nrules: [{id: a, entity: e, exemption: X, reason: r, pattern: x, "
     "effective_from: 2021-13-01}]", "bad date"),
])
def test_bad_rule_files_are_refused_with_where_and_what(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RuleFileError, match=message) as caught:
        load_rule_pack(path)
    assert str(path) in (caught.value.where or "")


def test_missing_rule_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="cannot read"):
        load_rule_pack(tmp_path / "nope.yaml")

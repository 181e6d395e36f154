"""Evaluate control ratios (контрольные соотношения) from a YAML rule pack against the returns in a case,
and write the failures to the canonical ``findings`` table.

A rule's ``check`` is one comparison over return lines, ``measure(...)`` values computed by SQL over the case
store (books, ledger), and ``prior(...)`` lines of the previous correction of the same return. The expression
language is a small, safe subset of Python syntax evaluated with exact decimals; nothing else is executed.
"""

from __future__ import annotations

import ast
import hashlib
import json
import operator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from taxaudit.errors import TaxauditError
from taxaudit.ingest.returns import ensure_returns_table, return_lines
from taxaudit.rules.loader import RulePack, load_pack
from taxaudit.store.case import Case

ZERO = Decimal("0")
CENT = Decimal("0.01")
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_COMPARE = {ast.Eq: "==", ast.LtE: "<=", ast.GtE: ">=", ast.Lt: "<", ast.Gt: ">"}


class RatioError(TaxauditError):
    """A control-ratio rule cannot be evaluated: bad expression, unknown measure, failing SQL."""


@dataclass(frozen=True)
class RatioResult:
    """The outcome of one rule on one return: passed, failed or not applicable, with the values compared."""

    rule: str
    title: str
    source_id: str
    return_type: str
    period: str
    correction_no: int
    status: str
    left: Decimal | None
    right: Decimal | None
    difference: Decimal | None
    tolerance: Decimal | None
    severity: str
    consequence: str
    citation: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RatioRun:
    """A run of one rule pack over the case's returns."""

    pack: str
    version: str
    sha256: str
    results: list[RatioResult]

    @property
    def failed(self) -> list[RatioResult]:
        return [result for result in self.results if result.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        return {"pack": self.pack, "version": self.version, "sha256": self.sha256,
                "checked": len(self.results), "failed": len(self.failed),
                "results": [result.to_dict() for result in self.results]}


class _Context:
    """Values a rule can see for one return: its lines, measures over the store, prior correction's lines."""

    def __init__(self, case: Case, pack: RulePack, facts: dict[str, Any]) -> None:
        self.case = case
        self.pack = pack
        self.facts = facts
        self.lines = return_lines(case, facts["source_id"])
        self._measures: dict[str, Decimal] = {}
        self._prior: dict[str, Decimal] | None = None
        self.used: dict[str, str] = {}

    def line(self, code: str) -> Decimal:
        value = self.lines.get(code, ZERO)
        self.used[code] = str(value)
        return value

    def measure(self, name: str) -> Decimal:
        if name not in self._measures:
            spec = self.pack.meta.get("measures", {}).get(name)
            if not spec:
                raise RatioError(f"unknown measure {name!r}", where=self.pack.source,
                                 hint="define it under 'measures' in the pack")
            sql = spec["sql"].replace("$period_start", "?").replace("$period_end", "?")
            params = [self.facts["period_start"] if token == "$period_start" else self.facts["period_end"]
                      for token in _placeholders(spec["sql"])]
            try:
                row = self.case.con.execute(sql, params).fetchone()
            except Exception as exc:  # duckdb raises many error types; each becomes one clear message
                raise RatioError(f"measure {name} failed: {exc}", where=self.pack.source,
                                 hint="fix the measure's SQL") from exc
            self._measures[name] = Decimal(str(row[0] if row and row[0] is not None else 0)).quantize(CENT)
        self.used[f"measure({name})"] = str(self._measures[name])
        return self._measures[name]

    def prior(self, code: str) -> Decimal | None:
        if self._prior is None:
            row = self.case.con.execute(
                "SELECT source_id FROM returns WHERE return_type = ? AND period = ? AND correction_no < ? "
                "ORDER BY correction_no DESC LIMIT 1",
                [self.facts["return_type"], self.facts["period"], self.facts["correction_no"]]).fetchone()
            self._prior = return_lines(self.case, row[0]) if row else {}
        value = self._prior.get(code)
        self.used[f"prior({code})"] = "absent" if value is None else str(value)
        return value


def _placeholders(sql: str) -> list[str]:
    found = []
    index = 0
    while True:
        positions = [(sql.find(token, index), token) for token in ("$period_start", "$period_end")]
        positions = [(pos, token) for pos, token in positions if pos >= 0]
        if not positions:
            return found
        pos, token = min(positions)
        found.append(token)
        index = pos + len(token)


def _evaluate(node: ast.AST, context: _Context, rule_id: str) -> Any:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, context, rule_id)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return Decimal(str(node.value))
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return context.line(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand, context, rule_id)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left = _evaluate(node.left, context, rule_id)
        right = _evaluate(node.right, context, rule_id)
        return _ARITHMETIC[type(node.op)](left or ZERO, right or ZERO)
    if isinstance(node, ast.BoolOp):
        values = [_evaluate(value, context, rule_id) for value in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        left = _evaluate(node.left, context, rule_id) or ZERO
        right = _evaluate(node.comparators[0], context, rule_id) or ZERO
        return {"==": left == right, "<=": left <= right, ">=": left >= right, "<": left < right,
                ">": left > right}[_COMPARE[type(node.ops[0])]]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        if name == "measure" and len(node.args) == 1:
            return context.measure(_evaluate(node.args[0], context, rule_id))
        if name == "prior" and len(node.args) == 1 and isinstance(node.args[0], ast.Name):
            return context.prior(node.args[0].id)
        if name == "has" and len(node.args) == 1:
            argument = node.args[0]
            if isinstance(argument, ast.Name):
                context.line(argument.id)
                return argument.id in context.lines
            return _evaluate(argument, context, rule_id) is not None
        if name in ("abs", "min", "max") and node.args:
            values = [_evaluate(arg, context, rule_id) or ZERO for arg in node.args]
            return {"abs": lambda: abs(values[0]), "min": lambda: min(values), "max": lambda: max(values)}[name]()
    raise RatioError(f"rule {rule_id}: unsupported expression {ast.unparse(node)!r}", where=context.pack.source,
                     hint="use line codes, numbers, + - * /, one comparison, and/or, measure(), prior(), has()")


def _parse(expression: str, rule_id: str, source: str) -> ast.Expression:
    try:
        return ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise RatioError(f"rule {rule_id}: expression does not parse: {exc.msg}", where=source,
                         hint="write e.g. s3_200 == s3_118 - s3_190") from exc


def evaluate_rule(rule: dict[str, Any], context: _Context) -> RatioResult:
    """Return the outcome of one control-ratio rule for the return in ``context``."""
    facts = context.facts
    base = {"rule": rule["id"], "title": rule["title"], "source_id": facts["source_id"],
            "return_type": facts["return_type"], "period": facts["period"],
            "correction_no": facts["correction_no"], "severity": rule.get("severity", "medium"),
            "consequence": " ".join(str(rule.get("consequence", "")).split()),
            "citation": " ".join(str(rule["citation"]).split())}
    if rule.get("when") and not _evaluate(_parse(rule["when"], rule["id"], context.pack.source), context, rule["id"]):
        return RatioResult(status="not_applicable", left=None, right=None, difference=None, tolerance=None, **base)
    check = _parse(rule["check"], rule["id"], context.pack.source).body
    if not (isinstance(check, ast.Compare) and len(check.ops) == 1 and type(check.ops[0]) in _COMPARE):
        raise RatioError(f"rule {rule['id']}: check must be one comparison", where=context.pack.source,
                         hint="write e.g. s3_200 == s3_118 - s3_190")
    left = (_evaluate(check.left, context, rule["id"]) or ZERO).quantize(CENT)
    right = (_evaluate(check.comparators[0], context, rule["id"]) or ZERO).quantize(CENT)
    if "tolerance_pct" in rule:
        tolerance = (abs(right) * Decimal(str(rule["tolerance_pct"])) / 100).quantize(CENT)
    else:
        tolerance = Decimal(str(rule.get("tolerance", 0))).quantize(CENT)
    op = _COMPARE[type(check.ops[0])]
    difference = left - right
    passed = {"==": abs(difference) <= tolerance, "<=": difference <= tolerance, ">=": -difference <= tolerance,
              "<": difference < tolerance, ">": -difference < tolerance}[op]
    return RatioResult(status="passed" if passed else "failed", left=left, right=right, difference=difference,
                       tolerance=tolerance, **base)


def returns_to_check(case: Case, return_type: str, source_id: str | None = None) -> list[dict[str, Any]]:
    """Return the facts of the returns a pack applies to: the given one, else the latest filing of each period."""
    ensure_returns_table(case)
    if source_id:
        cursor = case.con.execute("SELECT * FROM returns WHERE source_id = ?", [source_id])
    else:
        cursor = case.con.execute(
            "SELECT * FROM returns WHERE return_type = ? QUALIFY row_number() OVER "
            "(PARTITION BY return_type, period ORDER BY correction_no DESC) = 1 ORDER BY period", [return_type])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if source_id and not rows:
        raise RatioError(f"no return loaded from source {source_id!r}", where="--return",
                         hint="list the case's returns with: taxaudit returns list --case DIR")
    return rows


def evaluate_ratios(case: Case, *, pack: str = "ru_vat_ratios", source_id: str | None = None,
                    write_findings: bool = True) -> RatioRun:
    """Return every rule's outcome on the case's returns and write failures to ``findings`` (logged in custody).

    Rules are chosen by their effective dates against the last day of each return's period. Re-running replaces
    the findings this pack produced earlier for the same returns, so findings always reflect the latest run.
    """
    rule_pack = load_pack(pack)
    return_type = rule_pack.meta.get("return_type")
    results: list[RatioResult] = []
    checked = returns_to_check(case, return_type, source_id)
    for facts in checked:
        context = _Context(case, rule_pack, facts)
        on: date = facts["period_end"]
        for rule in rule_pack.in_force(on):
            results.append(evaluate_rule(rule, context))
    run = RatioRun(rule_pack.pack, rule_pack.version, rule_pack.sha256, results)
    if write_findings and not case.read_only:
        _write_findings(case, rule_pack, run, [facts["source_id"] for facts in checked])
    return run


def _write_findings(case: Case, pack: RulePack, run: RatioRun, source_ids: list[str]) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    prefix = f"ratio.{pack.pack}."
    with case.unit_of_work() as work:
        for source_id in source_ids:
            case.con.execute("DELETE FROM findings WHERE check_id LIKE ? AND subject_key = ?",
                             [prefix + "%", source_id])
        for result in run.failed:
            finding_id = hashlib.sha256(f"{pack.sha256}:{result.rule}:{result.source_id}".encode()).hexdigest()[:20]
            evidence = {"rule": result.rule, "left": str(result.left), "right": str(result.right),
                        "difference": str(result.difference), "tolerance": str(result.tolerance),
                        "consequence": result.consequence, "pack": pack.pack, "pack_version": pack.version,
                        "pack_sha256": pack.sha256, "return_type": result.return_type, "period": result.period,
                        "correction_no": result.correction_no, "formula": pack.rules[result.rule]["check"]}
            message = (f"{result.title}: {result.left} vs {result.right} "
                       f"(difference {result.difference}, tolerance {result.tolerance})")
            case.con.execute(
                "INSERT INTO findings (finding_id, check_id, check_version, severity, subject_table, subject_key, "
                "amount, message, citation, evidence, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [finding_id, prefix + result.rule, pack.version, result.severity, "returns", result.source_id,
                 abs(result.difference or ZERO), message, result.citation, json.dumps(evidence, ensure_ascii=False),
                 now])
        work.log("check_run", f"ratios:{pack.pack}", None, pack=pack.pack, pack_version=pack.version,
                 pack_sha256=pack.sha256, returns=source_ids, checked=len(run.results), failed=len(run.failed))


def failed_findings(case: Case, source_id: str) -> list[dict[str, Any]]:
    """Return the control-ratio findings recorded for one return, highest amount first."""
    cursor = case.con.execute(
        "SELECT finding_id, check_id, severity, amount, message, citation, evidence FROM findings "
        "WHERE check_id LIKE 'ratio.%' AND subject_key = ? ORDER BY amount DESC, check_id", [source_id])
    names = [d[0] for d in cursor.description]
    rows = []
    for row in cursor.fetchall():
        item = dict(zip(names, row, strict=True))
        item["evidence"] = json.loads(item["evidence"]) if isinstance(item["evidence"], str) else item["evidence"]
        rows.append(item)
    return rows

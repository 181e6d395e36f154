"""``taxaudit sample plan|select|evaluate|workpaper``: statistical samples an examiner can defend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from taxaudit.cli._common import JsonOption, console, err_console, json_default, print_json
from taxaudit.model.money import AmountError, parse_amount
from taxaudit.sampling import evaluate as evaluation
from taxaudit.sampling.errors import SamplingError
from taxaudit.sampling.plan import METHODS, parse_strata, plan
from taxaudit.sampling.population import Population, load_case_table, load_file
from taxaudit.sampling.select import Selection, select_mus, select_random, select_stratified, select_systematic
from taxaudit.sampling.select import write_csv as write_selection_csv
from taxaudit.sampling.select import write_xlsx as write_selection_xlsx
from taxaudit.sampling.stratified import StratumResult, project_errors
from taxaudit.sampling.workpaper import Workpaper, write_workpaper
from taxaudit.store import open_case
from taxaudit.store.case import sha256_file

sample_app = typer.Typer(help="Plan, select and evaluate statistical samples; file the workpaper.",
                         no_args_is_help=True)

Confidence = Annotated[float, typer.Option("--confidence", help="Confidence level as a fraction, e.g. 0.95.")]
OptionalCase = Annotated[Path | None, typer.Option("--case", help="The case directory.", file_okay=False)]
OutOption = Annotated[Path | None, typer.Option("--out", help="Also write the result as JSON to this file.")]
SELECT_METHODS = ("random", "systematic", "stratified", "mus")


@contextmanager
def _spinner(enabled: bool, text: str) -> Iterator[None]:
    if not enabled:
        yield
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console,
                  transient=True) as progress:
        progress.add_task(text, total=None)
        yield


def _money_option(value: str | None, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return parse_amount(value)
    except AmountError as exc:
        raise SamplingError(str(exc), where=name, hint="write amounts like 1250000.00") from exc


def _need(value: Any, name: str, method: str) -> Any:
    if value is None:
        raise SamplingError(f"--method {method} needs {name}", where=name)
    return value


def _save(data: dict[str, Any], out: Path | None) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, default=json_default, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _show(title: str, data: dict[str, Any], keys: list[str]) -> None:
    table = Table(title=title, show_header=False)
    for key in keys:
        if key in data and data[key] is not None:
            table.add_row(key.replace("_", " "), str(data[key]))
    console.print(table)


@sample_app.command("plan")
def plan_command(
    method: Annotated[str, typer.Option("--method", help="attribute | mus | variables | stratified-attribute")],
    confidence: Confidence = 0.95,
    tolerable_rate: Annotated[float | None, typer.Option(help="Attribute: tolerable deviation rate.")] = None,
    expected_rate: Annotated[float, typer.Option(help="Attribute: expected deviation rate (or count >= 1).")] = 0.0,
    likelihood: Annotated[str, typer.Option(help="Attribute: binomial | poisson | hypergeometric.")] = "binomial",
    population_size: Annotated[int | None, typer.Option(help="Population size (hypergeometric).")] = None,
    book_value: Annotated[str | None, typer.Option(help="MUS: population book value.")] = None,
    tolerable_misstatement: Annotated[str | None, typer.Option(help="MUS: tolerable misstatement.")] = None,
    expected_misstatement: Annotated[str | None, typer.Option(help="MUS: expected misstatement.")] = None,
    strata: Annotated[str | None, typer.Option(
        help="Variables: 'name:size:sd,…'; stratified-attribute: 'name:size:expected_rate,…'.")] = None,
    precision: Annotated[float | None, typer.Option(
        help="Variables: allowance on the total (amount); stratified-attribute: ± rate, e.g. 0.04.")] = None,
    allocation: Annotated[str, typer.Option(help="proportional | neyman")] = "neyman",
    sides: Annotated[int, typer.Option(help="1 or 2-sided precision.")] = 2,
    minimum_per_stratum: Annotated[int, typer.Option(help="Smallest sample in any stratum.")] = 0,
    out: OutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compute the sample size (and allocation to strata) for a sampling method."""
    options: dict[str, Any] = {"confidence": confidence}
    if method == "attribute":
        options.update(tolerable_rate=_need(tolerable_rate, "--tolerable-rate", method), expected_rate=expected_rate,
                       likelihood=likelihood, population_size=population_size)
    elif method == "mus":
        options.update(book_value=_need(_money_option(book_value, "--book-value"), "--book-value", method),
                       tolerable_misstatement=_need(_money_option(tolerable_misstatement, "--tolerable-misstatement"),
                                                    "--tolerable-misstatement", method),
                       expected_misstatement=_money_option(expected_misstatement, "--expected-misstatement"))
    elif method in ("variables", "stratified-attribute"):
        options.update(strata=parse_strata(_need(strata, "--strata", method)),
                       precision=_need(precision, "--precision", method), allocation=allocation, sides=sides,
                       minimum_per_stratum=minimum_per_stratum)
    result = plan(method, **options)
    _save(result, out)
    if as_json:
        print_json(result)
        return
    _show(f"Sample plan ({method})", result, list(result.keys()))


def _load_population(file: Path | None, case: Path | None, table: str | None, amount: str, key: str | None,
                     stratum: str | None) -> tuple[Population, Any]:
    keys = tuple(k.strip() for k in key.split(",") if k.strip()) if key else None
    if (file is None) == (case is None):
        raise SamplingError("give either --file or --case with --table", where="population",
                            hint="e.g. --file lines.csv --amount amount, "
                                 "or --case DIR --table journal_lines --amount debit")
    if file is not None:
        return load_file(file, amount, keys=keys or (), stratum=stratum), None
    if not table:
        raise SamplingError("--case needs --table", where="--table", hint="e.g. --table journal_lines")
    opened = open_case(case)
    try:
        return load_case_table(opened.con, table, amount, keys=keys, stratum=stratum), opened
    except BaseException:
        opened.close()
        raise


def _parse_allocation(text: str) -> dict[str, int]:
    result = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, count = part.rpartition(":")
        if not name or not count.isdigit():
            raise SamplingError(f"{part!r} is not stratum:size", where="--n-by-stratum", hint="e.g. high:30,low:20")
        result[name] = int(count)
    return result


@sample_app.command("select")
def select_command(
    method: Annotated[str, typer.Option("--method", help="random | systematic | stratified | mus")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the PCG64 generator; record it in the workpaper.")],
    out: Annotated[Path, typer.Option("--out", help="Selection CSV to write (an .xlsx and a .json go beside it).")],
    amount: Annotated[str, typer.Option("--amount", help="Column holding the amounts.")],
    file: Annotated[Path | None, typer.Option("--file", help="Population CSV or Parquet file.")] = None,
    case: OptionalCase = None,
    table: Annotated[str | None, typer.Option("--table", help="Case table, e.g. journal_lines.")] = None,
    key: Annotated[str | None, typer.Option("--key", help="Key column(s), comma-separated.")] = None,
    stratum: Annotated[str | None, typer.Option("--stratum", help="Stratum column (stratified).")] = None,
    n: Annotated[int | None, typer.Option("--n", help="Sample size.")] = None,
    n_by_stratum: Annotated[str | None, typer.Option(help="Stratified: 'stratum:n,…'.")] = None,
    allocation: Annotated[str, typer.Option(help="Stratified with --n: proportional | neyman.")] = "proportional",
    mus_selection: Annotated[str, typer.Option(help="MUS: fixed (interval) | cell.")] = "fixed",
    as_json: JsonOption = False,
) -> None:
    """Draw a reproducible sample and write it as CSV and XLSX; in a case, log the draw in the custody chain."""
    if method not in SELECT_METHODS:
        raise SamplingError(f"unknown selection method {method!r}", where="--method",
                            hint="use one of: " + ", ".join(SELECT_METHODS))
    with _spinner(not as_json, "reading the population"):
        population, opened = _load_population(file, case, table, amount, key, stratum)
    try:
        with _spinner(not as_json, f"selecting ({method})"):
            selection = _draw(method, population, seed, n, n_by_stratum, allocation, mus_selection)
            csv_path = write_selection_csv(selection, out)
            xlsx_path = write_selection_xlsx(selection, out.with_suffix(".xlsx"))
        meta = selection.metadata()
        meta.update(selection_csv=str(csv_path), selection_xlsx=str(xlsx_path),
                    selection_sha256=sha256_file(csv_path))
        if opened is not None:
            event = opened.record("sample_drawn", f"{table}.{amount}", meta["selection_sha256"],
                                  seed=seed, population_sha256=meta["population_sha256"], method=selection.method,
                                  population_size=meta["population_size"], sample_size=meta["sample_size"],
                                  parameters=meta["parameters"], prng=meta["prng"], selection_csv=str(csv_path))
            meta["custody_seq"] = event.seq
        _save(meta, out.with_suffix(".json"))
    finally:
        if opened is not None:
            opened.close()
    if as_json:
        print_json(meta)
        return
    _show(f"Sample drawn ({selection.method})", meta,
          ["sample_size", "population_size", "population_book_value", "sampling_interval", "seed",
           "population_sha256", "selection_csv", "selection_xlsx"])


def _draw(method: str, population: Population, seed: int, n: int | None, n_by_stratum: str | None,
          allocation: str, mus_selection: str) -> Selection:
    if method == "stratified":
        return select_stratified(population, seed, n_by_stratum=_parse_allocation(n_by_stratum) if n_by_stratum
                                 else None, n=n, allocation=allocation)  # type: ignore[arg-type]
    size = _need(n, "--n", method)
    if method == "random":
        return select_random(population, size, seed)
    if method == "systematic":
        return select_systematic(population, size, seed)
    return select_mus(population, size, seed, method=mus_selection)  # type: ignore[arg-type]


@sample_app.command("evaluate")
def evaluate_command(
    method: Annotated[str, typer.Option("--method", help="attribute | mus | variables | stratified-attribute")],
    confidence: Confidence = 0.95,
    results: Annotated[Path | None, typer.Option("--results", help="Selection CSV with the results added.")] = None,
    n: Annotated[int | None, typer.Option("--n", help="Attribute without a file / MUS binomial factors: n.")] = None,
    deviations: Annotated[int | None, typer.Option(help="Attribute without a file: deviations found.")] = None,
    likelihood: Annotated[str, typer.Option(help="Attribute: binomial | poisson | hypergeometric.")] = "binomial",
    population_size: Annotated[int | None, typer.Option(help="Attribute: population size.")] = None,
    alternative: Annotated[str, typer.Option(help="Attribute: less (upper limit) | two.sided.")] = "less",
    bound: Annotated[str, typer.Option(help="MUS: stringer | cell.")] = "stringer",
    factors: Annotated[str, typer.Option(help="MUS confidence factors: poisson | aicpa | binomial.")] = "poisson",
    tolerable_misstatement: Annotated[str | None, typer.Option(help="MUS: tolerable misstatement.")] = None,
    estimator: Annotated[str, typer.Option(help="Variables: mpu | difference | ratio.")] = "difference",
    sides: Annotated[int | None, typer.Option(help="1 or 2-sided limits (variables default 1, else 2).")] = None,
    distribution: Annotated[str | None, typer.Option(help="t | normal (variables default t, else normal).")] = None,
    taxpayer_benefits_from: Annotated[str | None, typer.Option(
        help="Variables: 'higher' (a deduction claimed) or 'lower' — applies Rev. Proc. 2011-42.")] = None,
    strata: Annotated[str | None, typer.Option(
        help="Stratified-attribute without a file: 'name:population:sample:errors,…'.")] = None,
    out: OutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate an audited sample: limits, projections and the Rev. Proc. 2011-42 amount."""
    if method == "stratified-attribute" and results is None:
        result = project_errors(_stratum_results(_need(strata, "--strata", method)), confidence, sides=sides or 2,
                                distribution=distribution or "normal").to_dict()  # type: ignore[arg-type]
    elif method == "attribute" and results is None:
        from taxaudit.sampling.attribute import evaluate_attribute

        result = evaluate_attribute(_need(n, "--n", method), _need(deviations, "--deviations", method), confidence,
                                    likelihood, population_size, alternative).to_dict()  # type: ignore[arg-type]
    else:
        rows = evaluation.read_results(_need(results, "--results", method))
        where = str(results)
        if method == "attribute":
            result = evaluation.attribute_from_rows(rows, confidence, likelihood=likelihood,
                                                    population_size=population_size, alternative=alternative,
                                                    where=where)
        elif method == "mus":
            result = evaluation.mus_from_rows(rows, confidence, bound=bound, factors=factors, where=where, n=n,
                                              tolerable_misstatement=_money_option(tolerable_misstatement,
                                                                                   "--tolerable-misstatement"))
        elif method == "stratified-attribute":
            result = evaluation.stratified_from_rows(rows, confidence, sides=sides or 2,
                                                     distribution=distribution or "normal", where=where)
        elif method == "variables":
            result = evaluation.variables_from_rows(rows, confidence, estimator=estimator, sides=sides or 1,
                                                    distribution=distribution or "t",
                                                    taxpayer_benefits_from=taxpayer_benefits_from, where=where)
        else:
            raise SamplingError(f"unknown sampling method {method!r}", where="--method",
                                hint="use one of: " + ", ".join(METHODS))
    _save(result, out)
    if as_json:
        print_json(result)
        return
    _show(f"Evaluation ({method})", result, ["point_estimate", "lower", "upper", "confidence", "n", "deviations",
                                             "upper_misstatement_limit", "errors_found", "book_value"])


def _stratum_results(text: str) -> list[StratumResult]:
    results = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        pieces = part.split(":")
        if len(pieces) != 4 or not all(x.isdigit() for x in pieces[1:]):
            raise SamplingError(f"{part!r} is not name:population:sample:errors", where="--strata",
                                hint="e.g. --strata 'partial:1041:37:18,other:2382:46:0'")
        results.append(StratumResult(pieces[0], int(pieces[1]), int(pieces[2]), int(pieces[3])))
    return results


def _read_json(path: Path | None, what: str) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SamplingError(f"cannot read the {what} JSON: {exc}", where=str(path),
                            hint=f"give the file written by 'taxaudit sample {what} --out'") from exc


@sample_app.command("workpaper")
def workpaper_command(
    out: Annotated[Path, typer.Option("--out", help="Workpaper HTML to write (an .xlsx goes beside it).")],
    plan_file: Annotated[Path | None, typer.Option("--plan", help="Plan JSON from 'sample plan --out'.")] = None,
    selection: Annotated[Path | None, typer.Option("--selection", help="Selection (or results) CSV.")] = None,
    evaluation_file: Annotated[Path | None, typer.Option("--evaluation", help="Evaluation JSON.")] = None,
    title: Annotated[str, typer.Option(help="Title of the workpaper.")] = "Statistical sample",
    examiner: Annotated[str | None, typer.Option(help="Who prepared it.")] = None,
    case: OptionalCase = None,
    as_json: JsonOption = False,
) -> None:
    """Write the sampling workpaper (HTML and XLSX): plan, draw, selection, results, evaluation, conclusion."""
    rows: list[dict[str, Any]] = []
    draw = None
    if selection is not None:
        rows = evaluation.read_results(selection)
        meta_path = selection.with_suffix(".json")
        draw = _read_json(meta_path, "select") if meta_path.is_file() else None
    paper = Workpaper(title, _read_json(plan_file, "plan"), draw, rows, _read_json(evaluation_file, "evaluate"),
                      examiner)
    html_path, xlsx_path = write_workpaper(paper, out)
    info: dict[str, Any] = {"html": str(html_path), "xlsx": str(xlsx_path), "html_sha256": sha256_file(html_path),
                            "xlsx_sha256": sha256_file(xlsx_path)}
    if case is not None:
        with open_case(case) as opened:
            opened.record("report_written", str(html_path), info["html_sha256"], kind="sampling workpaper",
                          xlsx=str(xlsx_path), xlsx_sha256=info["xlsx_sha256"])
    if as_json:
        print_json(info)
    else:
        console.print(f"Wrote [bold]{html_path}[/bold] and [bold]{xlsx_path}[/bold]")


def register(app: typer.Typer) -> None:
    app.add_typer(sample_app, name="sample")

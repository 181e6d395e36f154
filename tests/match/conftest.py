"""Fixtures for VAT matching: a small seeded economy with its answer key, and one shared SparkSession."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxaudit.synth.economy import Economy, generate_economy, write_economy


@pytest.fixture(scope="session")
def economy() -> Economy:
    return generate_economy(taxpayers=600, invoices=6000, seed=11)


@pytest.fixture(scope="session")
def economy_files(economy: Economy, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The economy as typed Parquet books plus a CSV of rows that must be quarantined."""
    return write_economy(economy, tmp_path_factory.mktemp("economy"), fmt="parquet")


@pytest.fixture(scope="session")
def economy_csv(economy: Economy, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_economy(economy, tmp_path_factory.mktemp("economy_csv"), fmt="csv")


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for the whole test session (starting Spark costs seconds)."""
    pytest.importorskip("pyspark")
    from taxaudit.engine import spark_session

    # Tiny data: compiling generated code and re-planning adaptively cost more than they save here.
    session = spark_session("local[2]", {
        "spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4",
        "spark.sql.codegen.wholeStage": "false", "spark.sql.adaptive.enabled": "false",
    })
    yield session
    session.stop()

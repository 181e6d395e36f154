"""Ingest: one module per source format, all loading through :mod:`taxaudit.ingest.pipeline`."""

from taxaudit.ingest.pipeline import IngestResult, ingest_files

__all__ = ["IngestResult", "ingest_files"]

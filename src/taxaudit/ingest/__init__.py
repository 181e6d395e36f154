"""Ingest: one module per source format, all loading through :mod:`taxaudit.ingest.pipeline`."""

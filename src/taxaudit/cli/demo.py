"""Placeholder replaced later in this commit series."""

import typer


def register(app: typer.Typer) -> None:
    return None

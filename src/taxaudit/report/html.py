"""Render self-contained HTML from the package's Jinja2 templates and turn it into PDF."""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from taxaudit.model.money import fmt


def money(value: Decimal | int | float | str | None, places: int = 2) -> str:
    """Return an amount formatted for people: thousands separated by thin spaces, two decimals."""
    if value is None or value == "":
        return ""
    amount = Decimal(str(value))
    text = f"{amount:,.{places}f}"
    return text.replace(",", "\u2009")


def environment(package: str = "taxaudit", templates: str = "report/templates") -> Environment:
    """Return a Jinja2 environment over a package's templates with autoescaping and taxaudit's filters.

    Stages keep their templates in their own package folder and pass it here, e.g.
    ``environment("taxaudit", "sampling/templates")``; the base layout ``base.html.j2`` lives in
    ``report/templates`` and is reachable as ``report/base.html.j2`` from any stage's templates.
    """
    from jinja2 import ChoiceLoader

    env = Environment(
        loader=ChoiceLoader([
            PackageLoader(package, templates),
            PackageLoader("taxaudit", "report/templates"),
        ]),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["decimal"] = fmt
    return env


def render_html(template: str, context: dict[str, Any], *, package: str = "taxaudit",
                templates: str = "report/templates") -> str:
    """Return the HTML text of ``template`` rendered with ``context``."""
    return environment(package, templates).get_template(template).render(**context)


def data_uri(payload: bytes, mime: str) -> str:
    """Return a data: URI embedding ``payload`` so the HTML needs no other file or network."""
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def write_pdf(html: str, out: Path) -> Path:
    """Write ``html`` as a PDF with WeasyPrint; no network access is used (all assets are embedded)."""
    from weasyprint import HTML

    def no_network(url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith("data:"):
            from weasyprint.urls import default_url_fetcher

            return default_url_fetcher(url, *args, **kwargs)
        raise ValueError(f"refusing to fetch {url}: reports must be self-contained")

    out.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=html, url_fetcher=no_network).write_pdf(str(out))
    return out

"""User-facing errors: each says what went wrong, where, and what to do about it."""

from __future__ import annotations


class TaxauditError(Exception):
    """Base of every error the CLI shows to a user without a traceback.

    ``what`` is the problem, ``where`` the file/line/XPath or object it concerns, ``hint`` what to do.
    """

    exit_code = 2

    def __init__(self, what: str, *, where: str | None = None, hint: str | None = None) -> None:
        self.what = what
        self.where = where
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [self.what]
        if self.where:
            parts.append(f"Where: {self.where}")
        if self.hint:
            parts.append(f"What to do: {self.hint}")
        return "\n".join(parts)

    def to_dict(self) -> dict[str, str | None]:
        return {"error": type(self).__name__, "what": self.what, "where": self.where, "hint": self.hint}


class CaseError(TaxauditError):
    """The case directory is missing, not a case, or already exists."""


class IngestError(TaxauditError):
    """A source cannot be ingested at all; the whole ingest is rolled back."""


class HostileXMLError(IngestError):
    """The XML carries a DTD, entity declarations or other constructs we refuse to process."""


class SourceEncodingError(IngestError):
    """The bytes of a source do not match the encoding it declares or its mapping names."""


class MappingError(TaxauditError):
    """A CSV mapping file is missing, malformed or does not fit the file it is applied to."""


class SchemaValidationError(IngestError):
    """The source does not validate against the XSD the user pointed to."""


class QueryError(TaxauditError):
    """A read-only SQL query failed or tried to modify the case."""

"""Hardened XML reading: no DTDs, no entity expansion, no network; errors turned into clear messages."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from lxml import etree

from taxaudit.errors import HostileXMLError, IngestError, SourceEncodingError

# Arguments for every lxml parser and iterparse over untrusted input.
HARDENED: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}

_TRUNCATION = re.compile(r"Premature end|EndTag|end of data|Extra content|Couldn't find end of Start Tag|expected '>'")
_ENCODING_HINTS = ("not proper UTF", "encoding", "Char 0x", "invalid character", "Document labelled UTF-16")


class CountingReader(io.RawIOBase):
    """A binary file wrapper that reports how many bytes were read, for progress bars."""

    def __init__(self, handle: IO[bytes], report: Callable[[int], None], every: int = 4 << 20) -> None:
        super().__init__()
        self.handle = handle
        self.report = report
        self.every = every
        self.done = 0
        self._next = every

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.handle.readinto(buffer)  # type: ignore[attr-defined]
        self.done += count or 0
        if self.done >= self._next:
            self.report(self.done)
            self._next = self.done + self.every
        return count


def xml_error(error: etree.XMLSyntaxError, where: str) -> IngestError:
    """Return the user-facing error for an XML syntax error: encoding, truncation or malformed markup."""
    message = str(error.msg or error)
    line, column = (error.position if error.position else (None, None))
    place = f"{where}, line {line}, column {column}" if line else where
    if any(hint in message for hint in _ENCODING_HINTS):
        return SourceEncodingError(
            f"the file's bytes do not match its declared encoding: {message}",
            where=place,
            hint="the XML declaration says one encoding (UTF-8 if none) but the bytes are another, often Latin-1 or "
                 "Windows-1252; ask for a correct export, or re-encode a copy and declare the encoding it really has",
        )
    if _TRUNCATION.search(message):
        return IngestError(
            f"the XML is truncated or not well-formed: {message}",
            where=place,
            hint="the file is damaged or incomplete (compare its SHA-256 with the one the taxpayer reports); "
                 "ask for a new export",
        )
    return IngestError(f"the file is not well-formed XML: {message}", where=place,
                       hint="check that this is the XML export and that it was not edited or cut")


def _parse_error(error: etree.XMLSyntaxError, where: str) -> IngestError:
    """Return the error for a parse that failed: entities/DTD are hostile, anything else as :func:`xml_error`."""
    if "Entity" in str(error) or "DOCTYPE" in str(error):
        return HostileXMLError(f"the XML uses entities or a DTD: {error}", where=where,
                               hint="ask for a clean export without a DOCTYPE")
    return xml_error(error, where)


def refuse_dtd(tree: Any, where: str) -> None:
    """Raise :class:`HostileXMLError` if the document carries a DOCTYPE (DTDs enable entity attacks)."""
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise HostileXMLError(
            "the XML declares a DOCTYPE/DTD; taxaudit refuses DTDs because they enable entity-expansion and "
            "external-entity attacks, and no SAF-T file needs one",
            where=where,
            hint="ask for a clean export without a DOCTYPE; do not open this file in tools that expand entities",
        )


def root_element(path: Path, where: str) -> tuple[str, str]:
    """Return (namespace, local name) of the document element, refusing DTDs and malformed prologs."""
    try:
        with path.open("rb") as handle:
            for _event, element in etree.iterparse(handle, events=("start",), **HARDENED):
                refuse_dtd(element.getroottree(), where)
                qname = etree.QName(element)
                return qname.namespace or "", qname.localname
    except etree.XMLSyntaxError as error:
        raise _parse_error(error, where) from error
    raise IngestError("the file contains no XML element", where=where, hint="check that this is the right file")


def parse_document(payload: bytes, where: str) -> Any:
    """Return the root element of a small XML document parsed with :data:`HARDENED`, refusing any DTD.

    For documents that fit in memory (returns, forms); big files are streamed with ``iterparse`` instead.
    """
    try:
        root = etree.fromstring(payload, etree.XMLParser(**HARDENED))
    except etree.XMLSyntaxError as error:
        raise _parse_error(error, where) from error
    refuse_dtd(root.getroottree(), where)
    return root

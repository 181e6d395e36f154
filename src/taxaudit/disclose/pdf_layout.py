"""Where every glyph of a PDF is: pdfminer.six layout analysis tied back to each text-showing operator.

pdfminer interprets the content streams and reports one ``render_string`` per text-showing operator
(``Tj``, ``TJ``, ``'``, ``"``) and one ``render_char`` per glyph. Recording both lets the redactor know, for
every glyph, its box on the page *and* which operator and string element drew it, so it can delete exactly
the covered glyphs from the content stream (see :mod:`taxaudit.disclose.pdf_redact`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LAParams, LTAnno, LTChar, LTContainer, LTImage, LTTextLine
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser, PDFSyntaxError
from pdfminer.psexceptions import PSException

from taxaudit.disclose.errors import RedactionError

Rect = tuple[float, float, float, float]
Matrix = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class Glyph:
    """One drawn glyph: its text, its box in page space (points from the lower-left corner) and its operator."""

    index: int
    text: str
    bbox: Rect
    op_index: int


@dataclass
class TextOp:
    """A text-showing operator as pdfminer ran it: its operand strings, font state and glyphs in order."""

    path: tuple[tuple[str, int], ...]
    seq: list[Any]
    font: Any
    fontsize: float
    charspace: float
    wordspace: float
    glyphs: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PlacedImage:
    """An image drawn on the page: the figure path pdfminer gave it, its box and its unit-square matrix."""

    path: tuple[tuple[str, int], ...]
    bbox: Rect
    matrix: Matrix


@dataclass
class TextLine:
    """A line of text as layout analysis found it; ``glyphs[i]`` is the glyph of ``text[i]`` (None: a gap)."""

    text: str
    glyphs: list[int | None]


@dataclass
class PageLayout:
    """The glyphs, text operators, text lines and image boxes of one page (``number`` counts from 1).

    Coordinates are points from the lower-left corner of the page's MediaBox, before any /Rotate is applied.
    """

    number: int
    width: float
    height: float
    ctm: Matrix
    glyphs: list[Glyph]
    ops: list[TextOp]
    lines: list[TextLine]
    images: list[PlacedImage]

    def text(self) -> str:
        """Return the page text, one layout line per line."""
        return "\n".join(line.text for line in self.lines)


def boxes_array(glyphs: list[Glyph]) -> np.ndarray:
    """Return the glyph boxes as an (n, 4) float array, for testing many glyphs against a box at once."""
    return np.array([g.bbox for g in glyphs], dtype=float).reshape(-1, 4)


def intersecting(boxes: np.ndarray, box: Rect, epsilon: float = 0.01) -> np.ndarray:
    """Return the row indexes of ``boxes`` that share an area with ``box`` (the vector form of intersects)."""
    wide = np.minimum(boxes[:, 2], box[2]) - np.maximum(boxes[:, 0], box[0]) > epsilon
    tall = np.minimum(boxes[:, 3], box[3]) - np.maximum(boxes[:, 1], box[1]) > epsilon
    return np.nonzero(wide & tall)[0]


def intersects(a: Rect, b: Rect, epsilon: float = 0.01) -> bool:
    """Return True when two boxes share an area wider and taller than ``epsilon`` points."""
    return min(a[2], b[2]) - max(a[0], b[0]) > epsilon and min(a[3], b[3]) - max(a[1], b[1]) > epsilon


def union(boxes: list[Rect]) -> Rect:
    """Return the smallest box holding every box in ``boxes``."""
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


class _RecordingAggregator(PDFPageAggregator):
    """pdfminer's layout device, also recording which operator drew each glyph."""

    def __init__(self, manager: PDFResourceManager, laparams: LAParams | None) -> None:
        super().__init__(manager, laparams=laparams)
        self.reset()

    def reset(self) -> None:
        self.glyphs: list[Glyph] = []
        self.ops: list[TextOp] = []
        self.images: list[PlacedImage] = []
        self.path: list[tuple[str, int]] = []
        self.occurrences: list[defaultdict[str, int]] = [defaultdict(int)]
        self.char_glyph: dict[int, int] = {}
        self.page_ctm: Matrix = (1, 0, 0, 1, 0, 0)

    def begin_page(self, page: PDFPage, ctm: Matrix) -> None:
        self.reset()
        self.page_ctm = ctm
        super().begin_page(page, ctm)

    def begin_figure(self, name: str, bbox: Rect, matrix: Matrix) -> None:
        super().begin_figure(name, bbox, matrix)
        seen = self.occurrences[-1]
        self.path.append((str(name), seen[str(name)]))
        seen[str(name)] += 1
        self.occurrences.append(defaultdict(int))

    def end_figure(self, name: str) -> None:
        super().end_figure(name)
        self.path.pop()
        self.occurrences.pop()

    def render_string(self, textstate: Any, seq: Any, ncs: Any, graphicstate: Any) -> None:
        self.ops.append(TextOp(tuple(self.path), list(seq), textstate.font, float(textstate.fontsize),
                               float(textstate.charspace), float(textstate.wordspace)))
        super().render_string(textstate, seq, ncs, graphicstate)

    def render_char(self, matrix: Matrix, font: Any, fontsize: float, scaling: float, rise: float, cid: int,
                    ncs: Any, graphicstate: Any) -> float:
        advance = super().render_char(matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate)
        item = self.cur_item._objs[-1]
        index = len(self.glyphs)
        self.glyphs.append(Glyph(index, item.get_text(), tuple(float(v) for v in item.bbox), len(self.ops) - 1))
        self.ops[-1].glyphs.append(index)
        self.char_glyph[id(item)] = index
        return advance

    def render_image(self, name: str, stream: Any) -> None:
        super().render_image(name, stream)
        image = self.cur_item._objs[-1]
        if isinstance(image, LTImage):
            self.images.append(PlacedImage(tuple(self.path), tuple(float(v) for v in image.bbox),
                                           tuple(float(v) for v in self.cur_item.matrix)))


class _Interpreter(PDFPageInterpreter):
    """pdfminer's interpreter with the ``"`` operator moving to the next line as ISO 32000-1 Table 109 says.

    pdfminer.six 20260107 sets Tw and Tc and shows the string but skips the T* step, so it reports the glyphs
    on the previous line; the redaction box would then be drawn in the wrong place.
    """

    def do__w(self, aw: Any, ac: Any, s: Any) -> None:
        self.do_Tw(aw)
        self.do_Tc(ac)
        self.do_T_a()
        self.do_TJ([s])


def _lines(item: Any, char_glyph: dict[int, int]) -> list[TextLine]:
    found: list[TextLine] = []
    if isinstance(item, LTTextLine):
        text: list[str] = []
        glyphs: list[int | None] = []
        for char in item:
            piece = char.get_text()
            if piece == "\n":
                continue
            glyph = char_glyph.get(id(char)) if isinstance(char, LTChar) else None
            if isinstance(char, LTAnno):
                glyph = None
            text.append(piece)
            glyphs.extend([glyph] * len(piece))
        found.append(TextLine("".join(text), glyphs))
    elif isinstance(item, LTContainer):
        for child in item:
            found.extend(_lines(child, char_glyph))
    return found


def analyze_pdf(path: Path, *, lines: bool = True) -> list[PageLayout]:
    """Return the layout of every page of the PDF at ``path`` (pdfminer.six, all text including figures).

    ``lines=False`` skips pdfminer's layout analysis (grouping glyphs into lines), the costly part, when only
    the glyph boxes are needed; the pages then have no ``lines``.
    """
    manager = PDFResourceManager(caching=True)
    # boxes_flow=None: the rules need lines, not the reading order of text boxes, whose grouping is quadratic
    laparams = LAParams(all_texts=True, detect_vertical=True, boxes_flow=None) if lines else None
    device = _RecordingAggregator(manager, laparams)
    interpreter = _Interpreter(manager, device)
    pages: list[PageLayout] = []
    try:
        with Path(path).open("rb") as handle:
            document = PDFDocument(PDFParser(handle))
            for number, page in enumerate(PDFPage.create_pages(document), start=1):
                # Analyse the page unrotated: text drawn horizontally stays on horizontal lines for the rules
                # (a /Rotate 90 page would otherwise turn every line into a column of single characters).
                page.rotate = 0
                interpreter.process_page(page)
                layout = device.get_result()
                x0, y0, x1, y1 = page.mediabox
                pages.append(PageLayout(number, float(x1 - x0), float(y1 - y0), device.page_ctm,
                                        device.glyphs, device.ops, _lines(layout, device.char_glyph),
                                        device.images))
    except OSError as exc:
        raise RedactionError(f"cannot read the PDF: {exc.strerror or exc}", where=str(path)) from exc
    except PDFEncryptionError as exc:
        raise RedactionError("the PDF is encrypted", where=str(path),
                             hint="decrypt it (e.g. qpdf --decrypt) before redacting") from exc
    except (PDFSyntaxError, PSException, ValueError, TypeError, KeyError) as exc:
        raise RedactionError(f"not a readable PDF: {exc}", where=str(path),
                             hint="check the file is a complete, unencrypted PDF") from exc
    return pages

"""Destructive PDF redaction with pikepdf: covered glyphs are deleted from the content stream, then boxed.

How it works (and why it is safe):

1. :func:`~taxaudit.disclose.pdf_layout.analyze_pdf` finds every glyph's box and the text operator that drew it.
2. Every glyph whose box shares area with a redaction box is *removed* from its ``Tj``/``TJ``/``'``/``"``
   operator. The operator is rewritten as a ``TJ`` array in which each removed glyph is replaced by the
   equivalent displacement number, ``-(w0·Tfs + Tc + Tw)·1000/Tfs`` (ISO 32000-1 § 9.4.4), so the glyphs
   left on the line stay exactly where they were. A ``TJ`` string only partly covered is split; nothing of
   the removed glyphs' codes remains anywhere in the page's content.
3. The page's content is replaced by one new stream (the old streams are no longer referenced, and pikepdf
   writes a complete new file, never an incremental update, so the old bytes are not carried along).
4. An opaque black box is drawn over each region with the exemption code stamped in white.
5. Annotations over a box, form fields, outline titles and metadata holding a redacted value are removed;
   page thumbnails of redacted pages and embedded files are dropped.
6. The result is analysed again: if any glyph still lies under a box, nothing is written (fail closed).

Text drawn inside Form XObjects is removed from a private copy of the form made for that use, so other
uses of the form elsewhere stay as they were. An image XObject under a box is replaced by a copy whose covered
pixels are black in the image data itself. Vertical writing, a zero font size, inline images, and rotated,
masked or /Decode images under a box are refused with :class:`RedactionError` instead of leaving content behind.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, Operator, String
from PIL import Image, ImageDraw
from reportlab.pdfbase.pdfmetrics import stringWidth

from taxaudit.disclose.errors import RedactionError
from taxaudit.disclose.pdf_layout import (
    Matrix,
    PageLayout,
    Rect,
    TextOp,
    analyze_pdf,
    boxes_array,
    intersecting,
    intersects,
    union,
)
from taxaudit.disclose.rules import RulePack, Terms, find_matches, value_pattern

TEXT_SHOWING = {"Tj", "TJ", "'", '"'}
STAMP_FONT = Name("/TaxauditRedactionStamp")


@dataclass(frozen=True)
class RedactionMark:
    """A region to redact: page (from 1), box in points from the page's lower-left corner, and why."""

    page: int
    box: Rect
    exemption: str | None
    reason: str
    rule_id: str | None = None
    reviewer: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class AppliedRedaction:
    """A mark as applied: how many glyphs were deleted and the text they spelled (internal use only)."""

    mark: RedactionMark
    glyphs_removed: int
    removed_text: str


def find_pdf_marks(pages: Sequence[PageLayout], pack: RulePack, terms: Terms | None = None, *,
                   on: Any = None) -> list[RedactionMark]:
    """Return one mark per rule match on each text line: the box around the matched glyphs."""
    marks = []
    for page in pages:
        for line in page.lines:
            for match in find_matches(line.text, pack, terms, on=on):
                glyphs = [g for g in line.glyphs[match.start:match.end] if g is not None]
                if not glyphs:
                    continue
                box = union([page.glyphs[g].bbox for g in glyphs])
                marks.append(RedactionMark(page.number, box, match.exemption, match.reason, match.rule_id,
                                           None, match.value))
    return marks


def _covered(page: PageLayout, marks: Sequence[RedactionMark]) -> dict[int, list[int]]:
    """Return glyph index -> indexes of the marks covering it, for one page."""
    covered: dict[int, list[int]] = {}
    boxes = boxes_array(page.glyphs)
    for number, mark in enumerate(marks):
        for index in intersecting(boxes, mark.box):
            covered.setdefault(int(index), []).append(number)
    return covered


def _split_codes(font: Any, data: bytes) -> list[bytes]:
    """Return the character codes of ``data`` in order, as the font's encoding splits them (1 to 4 bytes)."""
    if not font.is_multibyte():
        return [bytes([b]) for b in data]
    codes = []
    start = 0
    while start < len(data):
        for end in range(start + 1, min(start + 4, len(data)) + 1):
            if len(list(font.decode(data[start:end]))) == 1:
                break
        else:
            end = min(start + 2, len(data))
        codes.append(data[start:end])
        start = end
    return codes


def _displacement(op: TextOp, code: bytes) -> Decimal:
    """Return the TJ number that moves the pen as far as glyph ``code`` would have (ISO 32000-1 § 9.4.4)."""
    if op.fontsize == 0:
        raise RedactionError("text drawn at font size 0 cannot be removed glyph by glyph",
                             hint="redact this page by hand (e.g. print to image) and register the result")
    (cid,) = list(op.font.decode(code)) or [0]
    width = op.font.char_width(cid) * op.fontsize
    word_space = op.wordspace if code == b" " and not op.font.is_multibyte() else 0.0
    number = -(width + op.charspace + word_space) * 1000 / op.fontsize
    return Decimal(repr(number)).quantize(Decimal("0.0001"))


def _operand_strings(operands: Any, operator: str) -> list[Any]:
    if operator == "TJ":
        return list(operands[0])
    return [operands[-1]]


def _same_text(pdfminer_seq: list[Any], elements: list[Any]) -> bool:
    theirs = [bytes(item) for item in pdfminer_seq if isinstance(item, bytes)]
    ours = [bytes(item) for item in elements if isinstance(item, String)]
    return theirs == ours


def _rewrite_text_op(operands: Any, operator: str, op: TextOp, remove: set[int]) -> list[tuple[list[Any], Operator]]:
    """Return instructions drawing ``op`` without the glyphs in ``remove``, the rest left in place."""
    if op.font.is_vertical():
        raise RedactionError("vertical text cannot be removed glyph by glyph",
                             hint="redact this page by hand and register the result")
    before: list[tuple[list[Any], Operator]] = []
    if operator == "'":
        before = [([], Operator("T*"))]
    elif operator == '"':
        before = [([operands[0]], Operator("Tw")), ([operands[1]], Operator("Tc")), ([], Operator("T*"))]
    glyphs = iter(op.glyphs)
    rebuilt: list[Any] = []
    for element in _operand_strings(operands, operator):
        if not isinstance(element, String):
            rebuilt.append(Decimal(str(element)))
            continue
        kept = b""
        for code in _split_codes(op.font, bytes(element)):
            glyph = next(glyphs, None)
            if glyph is None:
                raise RedactionError("glyph count of a text operator disagrees with its font's encoding",
                                     hint="the PDF's fonts are unusual; redact this page by hand")
            if glyph in remove:
                if kept:
                    rebuilt.append(String(kept))
                    kept = b""
                rebuilt.append(_displacement(op, code))
            else:
                kept += code
        if kept:
            rebuilt.append(String(kept))
    if next(glyphs, None) is not None:
        raise RedactionError("glyph count of a text operator disagrees with its font's encoding",
                             hint="the PDF's fonts are unusual; redact this page by hand")
    merged: list[Any] = []
    for item in rebuilt:
        if isinstance(item, Decimal) and merged and isinstance(merged[-1], Decimal):
            merged[-1] += item
        else:
            merged.append(item)
    return [*before, ([Array(merged)], Operator("TJ"))]


def _invert(m: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    det = a * d - b * c
    return (d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det)


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])


def _to_user(box: Rect, ctm: Matrix) -> Rect:
    """Return ``box`` (layout space) in the page's user space, undoing the page's rotation and origin."""
    inverse = _invert(ctm)
    points = [_apply(inverse, x, y) for x in (box[0], box[2]) for y in (box[1], box[3])]
    return (min(p[0] for p in points), min(p[1] for p in points), max(p[0] for p in points), max(p[1] for p in points))


def _stamp(box: Rect, code: str | None) -> list[tuple[list[Any], Operator]]:
    """Return instructions for an opaque black box with the exemption code in white, sized to fit."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    ops: list[tuple[list[Any], Operator]] = [
        ([], Operator("q")), ([0], Operator("g")),
        ([Decimal(f"{x0:.3f}"), Decimal(f"{y0:.3f}"), Decimal(f"{width:.3f}"), Decimal(f"{height:.3f}")],
         Operator("re")),
        ([], Operator("f")),
    ]
    if code:
        size = min(8.0, height * 0.75, width / max(stringWidth(code, "Helvetica", 1.0), 0.01) * 0.92)
        if size >= 2.0:
            text_width = stringWidth(code, "Helvetica", size)
            tx = x0 + (width - text_width) / 2
            ty = y0 + (height - size * 0.72) / 2
            ops += [
                ([], Operator("BT")), ([1], Operator("g")), ([STAMP_FONT, Decimal(f"{size:.2f}")], Operator("Tf")),
                ([Decimal(f"{tx:.3f}"), Decimal(f"{ty:.3f}")], Operator("Td")),
                ([String(code.encode("latin-1", "replace"))], Operator("Tj")), ([], Operator("ET")),
            ]
    ops.append(([], Operator("Q")))
    return ops


def _private_resources(resources: Any) -> Dictionary:
    """Return a shallow copy of a resource dictionary (and of its /XObject map) that can be edited alone."""
    copy = Dictionary({key: value for key, value in resources.items()}) if resources is not None else Dictionary()
    if "/XObject" in copy:
        copy.XObject = Dictionary({key: value for key, value in copy.XObject.items()})
    return copy


def _inherited_resources(page: pikepdf.Page) -> Any:
    node = page.obj
    while node is not None:
        if "/Resources" in node:
            return node.Resources
        node = node.get("/Parent")
    return None


@dataclass
class _PageJob:
    """What to take out of one page: glyphs to remove and, per image figure path, the boxes over it."""

    layout: PageLayout
    remove: set[int]
    image_boxes: dict[tuple[tuple[str, int], ...], list[Rect]]
    images_done: set[tuple[tuple[str, int], ...]] = field(default_factory=set)

    def touches(self, path: tuple[tuple[str, int], ...]) -> bool:
        """True when the invocation ``path`` (or anything it draws) holds removed glyphs or covered images."""
        n = len(path)
        return any(p[:n] == path for p in self.image_boxes) or any(
            g in self.remove for op in self.layout.ops if op.path[:n] == path for g in op.glyphs)


def _fresh_name(xobjects: Dictionary, name: Name) -> Name:
    number = 1
    while Name(f"{name}R{number}") in xobjects:
        number += 1
    return Name(f"{name}R{number}")


def _rewrite_content(pdf: pikepdf.Pdf, instructions: Any, resources: Dictionary, path: tuple[tuple[str, int], ...],
                     job: _PageJob) -> list[Any]:
    """Return ``instructions`` without the removed glyphs; forms and images holding any are replaced by copies.

    ``path`` names the Form XObject invocation being rewritten (empty for the page itself), as pdfminer counted
    them: each ``Do`` of a name is that name's next occurrence at this level. A form drawing removed glyphs, or an
    image under a box, is rewritten into a new XObject under a new name in ``resources``, so other uses of the
    original are untouched.
    """
    layout = job.layout
    ops = [op for op in layout.ops if op.path == path]
    where = f"page {layout.number}" + (f", form {'/'.join(name for name, _ in path)}" if path else "")
    rewritten: list[Any] = []
    next_op = 0
    seen: dict[str, int] = {}
    for operands, operator in instructions:
        name = str(operator)
        if name in TEXT_SHOWING:
            if next_op >= len(ops) or not _same_text(ops[next_op].seq, _operand_strings(operands, name)):
                raise RedactionError(f"{where}: cannot match text operators to the layout analysis", where=where,
                                     hint="redact this page by hand")
            op = ops[next_op]
            next_op += 1
            if any(g in job.remove for g in op.glyphs):
                rewritten.extend(_rewrite_text_op(operands, name, op, job.remove))
                continue
        elif name == "Do" and operands and isinstance(operands[0], Name):
            bare = str(operands[0])[1:]
            child = (*path, (bare, seen.get(bare, 0)))
            seen[bare] = seen.get(bare, 0) + 1
            if child in job.image_boxes:
                rewritten.append(([_redact_image(pdf, resources, operands[0], child, job)], operator))
                continue
            if job.touches(child):
                rewritten.append(([_rewrite_form(pdf, resources, operands[0], child, job)], operator))
                continue
        rewritten.append((operands, operator))
    if next_op != len(ops):
        raise RedactionError(f"{where}: cannot match text operators to the layout analysis", where=where,
                             hint="redact this page by hand")
    return rewritten


def _rewrite_form(pdf: pikepdf.Pdf, resources: Dictionary, name: Name, path: tuple[tuple[str, int], ...],
                  job: _PageJob) -> Name:
    """Add to ``resources`` a copy of form ``name`` without the removed glyphs; return the copy's name."""
    xobjects = resources.get("/XObject")
    form = xobjects.get(name) if xobjects is not None else None
    if form is None or form.get("/Subtype") != Name.Form:
        raise RedactionError(f"page {job.layout.number}: form {name} drawing redacted text is not in the resources",
                             where=f"page {job.layout.number}", hint="redact this page by hand")
    own = _private_resources(form.get("/Resources"))
    original = pikepdf.parse_content_stream(form)
    body = _rewrite_content(pdf, original, own, path, job)
    _drop_replaced_xobjects(own, _drawn(original), _drawn(body))
    copy = pdf.make_stream(pikepdf.unparse_content_stream(body))
    for key, value in form.items():
        if key not in ("/Length", "/Filter", "/DecodeParms", "/Resources"):
            copy[key] = value
    copy.Resources = own
    new_name = _fresh_name(xobjects, name)
    xobjects[new_name] = copy
    return new_name


def _paint(picture: Image.Image, boxes: list[Rect], matrix: Matrix, fill: Any) -> None:
    """Fill every pixel of ``picture`` that any box touches; ``matrix`` maps the image's unit square to the page."""
    a, _, _, d, e, f = matrix
    width, height = picture.size
    draw = ImageDraw.Draw(picture)
    for x0, y0, x1, y1 in boxes:
        u0, u1 = sorted(((x0 - e) / a, (x1 - e) / a))
        v0, v1 = sorted(((y0 - f) / d, (y1 - f) / d))
        left, right = max(0, math.floor(u0 * width)), min(width, math.ceil(u1 * width))
        top, bottom = max(0, math.floor((1 - v1) * height)), min(height, math.ceil((1 - v0) * height))
        if right > left and bottom > top:
            draw.rectangle((left, top, right - 1, bottom - 1), fill=fill)


def _image_stream(pdf: pikepdf.Pdf, picture: Image.Image) -> pikepdf.Stream:
    space = Name.DeviceGray if picture.mode == "L" else Name.DeviceRGB
    stream = pdf.make_stream(zlib.compress(picture.tobytes()))
    stream.Type, stream.Subtype = Name.XObject, Name.Image
    stream.Width, stream.Height = picture.size
    stream.ColorSpace, stream.BitsPerComponent, stream.Filter = space, 8, Name.FlateDecode
    return stream


def _decoded(image: Any, where: str) -> Image.Image:
    try:
        picture = pikepdf.PdfImage(image).as_pil_image()
    except Exception as exc:  # pikepdf raises several types for filters and colour spaces it cannot decode
        raise RedactionError(f"{where}: the image under a box cannot be decoded ({exc})", where=where,
                             hint="convert the page to a plain RGB image, or redact it by hand") from exc
    return picture if picture.mode in ("L", "RGB") else picture.convert("RGB")


def _redact_image(pdf: pikepdf.Pdf, resources: Dictionary, name: Name, path: tuple[tuple[str, int], ...],
                  job: _PageJob) -> Name:
    """Add to ``resources`` a copy of image ``name`` with the pixels under the boxes blacked out; return its name.

    Only the pixels change: the covered area is filled with black in the image data itself (and made opaque in
    its soft mask), so nothing of it can be recovered from the file. Rotated or skewed placements, stencil masks
    and images with a /Decode array are refused.
    """
    where = f"page {job.layout.number}, image {name}"
    xobjects = resources.get("/XObject")
    image = xobjects.get(name) if xobjects is not None else None
    placed = next(img for img in job.layout.images if img.path == path)
    a, b, c, d, _, _ = placed.matrix
    if image is None or image.get("/Subtype") != Name.Image or bool(image.get("/ImageMask", False)) \
            or "/Decode" in image or abs(b) > 1e-9 or abs(c) > 1e-9 or a == 0 or d == 0:
        raise RedactionError(f"{where}: this image under a box cannot be redacted pixel by pixel", where=where,
                             hint="only upright, unmasked images are edited; redact this page by hand")
    boxes = job.image_boxes[path]
    picture = _decoded(image, where)
    _paint(picture, boxes, placed.matrix, 0 if picture.mode == "L" else (0, 0, 0))
    copy = _image_stream(pdf, picture)
    if "/SMask" in image:
        mask = _decoded(image.SMask, where).convert("L")
        _paint(mask, boxes, placed.matrix, 255)
        copy.SMask = _image_stream(pdf, mask)
    new_name = _fresh_name(xobjects, name)
    xobjects[new_name] = copy
    job.images_done.add(path)
    return new_name


def _drawn(instructions: Any) -> set[str]:
    return {str(operands[0]) for operands, operator in instructions if str(operator) == "Do" and operands}


def _drop_replaced_xobjects(resources: Dictionary, before: set[str], after: set[str]) -> None:
    """Remove from a private resource copy the forms that were drawn before rewriting and no longer are."""
    for key in before - after:
        if "/XObject" in resources and key in resources.XObject:
            del resources.XObject[key]


def _rewrite_page(pdf: pikepdf.Pdf, page: pikepdf.Page, layout: PageLayout, remove: set[int],
                  marks: Sequence[RedactionMark]) -> None:
    """Replace the page's content by one stream without the removed glyphs and pixels, followed by the boxes."""
    image_boxes: dict[tuple[tuple[str, int], ...], list[Rect]] = {}
    for image in layout.images:
        boxes = [mark.box for mark in marks if intersects(image.bbox, mark.box)]
        if boxes:
            image_boxes[image.path] = boxes
    job = _PageJob(layout, remove, image_boxes)
    resources = _private_resources(_inherited_resources(page))
    original = pikepdf.parse_content_stream(page)
    body = _rewrite_content(pdf, original, resources, (), job)
    missed = set(image_boxes) - job.images_done
    if missed:
        raise RedactionError(f"page {layout.number}: an inline image lies under a redaction box",
                             where=f"page {layout.number}",
                             hint="inline images are not edited; convert the page or redact it by hand")
    _drop_replaced_xobjects(resources, _drawn(original), _drawn(body))
    page.obj.Resources = resources
    depth = 0
    for _, operator in body:
        depth += {"q": 1, "Q": -1}.get(str(operator), 0)
    rewritten: list[Any] = [([], Operator("q")), *body, *([([], Operator("Q"))] * (1 + max(depth, 0)))]
    page.add_resource(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica,
                                 Encoding=Name.WinAnsiEncoding), Name.Font, STAMP_FONT)
    for mark in marks:
        rewritten.extend(_stamp(_to_user(mark.box, layout.ctm), mark.exemption))
    page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(rewritten))
    for key in ("/Thumb", "/PieceInfo"):
        if key in page.obj:
            del page.obj[key]


def _holds(value: Any, patterns: Sequence[Any]) -> bool:
    if isinstance(value, pikepdf.Stream):
        try:
            text = value.read_bytes().decode("latin-1", "replace")
        except pikepdf.PdfError:
            return True  # a stream we cannot decode might hold the value: treat it as holding it
    else:
        text = str(value)
    return any(pattern.search(text) for pattern in patterns)


def _scrub_annotations(page: pikepdf.Page, layout: PageLayout, marks: Sequence[RedactionMark],
                       patterns: Sequence[Any]) -> set[tuple[int, int]]:
    """Remove annotations lying over a box or holding a redacted value; return their object ids."""
    if "/Annots" not in page.obj:
        return set()
    kept, removed = Array(), set()
    for annot in page.obj.Annots:
        rect = [float(v) for v in annot.get("/Rect", [0, 0, 0, 0])]
        corners = [_apply(layout.ctm, x, y) for x in (rect[0], rect[2]) for y in (rect[1], rect[3])]
        box = (min(p[0] for p in corners), min(p[1] for p in corners),
               max(p[0] for p in corners), max(p[1] for p in corners))
        values = [annot.get(key) for key in ("/Contents", "/V", "/T", "/TU", "/RC") if key in annot]
        appearance = annot.get("/AP")
        if appearance is not None and isinstance(appearance.get("/N"), pikepdf.Stream):
            values.append(appearance.N)
        if any(intersects(box, mark.box) for mark in marks) or any(_holds(v, patterns) for v in values):
            if annot.is_indirect:
                removed.add(annot.objgen)
            continue
        kept.append(annot)
    page.obj.Annots = kept
    return removed


def _scrub_fields(fields: Any, removed: set[tuple[int, int]], patterns: Sequence[Any]) -> Array:
    kept = Array()
    for form_field in fields:
        if form_field.is_indirect and form_field.objgen in removed:
            continue
        if any(_holds(form_field.get(key), patterns) for key in ("/V", "/DV", "/T", "/TU") if key in form_field):
            continue
        if "/Kids" in form_field:
            form_field.Kids = _scrub_fields(form_field.Kids, removed, patterns)
        kept.append(form_field)
    return kept


def _scrub_outline(item: Any, patterns: Sequence[Any]) -> None:
    while item is not None:
        if "/Title" in item and _holds(item.Title, patterns):
            item.Title = String("[redacted]")
        if "/First" in item:
            _scrub_outline(item.First, patterns)
        item = item.get("/Next")


def _scrub_document(pdf: pikepdf.Pdf, removed_annots: set[tuple[int, int]], patterns: Sequence[Any]) -> None:
    """Remove redacted values from document information, XMP, form fields, outlines; drop attachments."""
    root = pdf.Root
    for key in list(pdf.docinfo.keys()):
        if _holds(pdf.docinfo[key], patterns):
            del pdf.docinfo[key]
    if "/Metadata" in root and _holds(root.Metadata, patterns):
        del root.Metadata
    if "/AcroForm" in root and "/Fields" in root.AcroForm:
        root.AcroForm.Fields = _scrub_fields(root.AcroForm.Fields, removed_annots, patterns)
    if "/Outlines" in root and "/First" in root.Outlines:
        _scrub_outline(root.Outlines.First, patterns)
    if "/Names" in root and "/EmbeddedFiles" in root.Names:
        del root.Names.EmbeddedFiles


def _removed_texts(layout: PageLayout, covered: dict[int, list[int]], marks: int) -> list[str]:
    """Return, for each mark of the page, the text of the glyphs it removes, line by line in reading order."""
    pieces: list[list[str]] = [[] for _ in range(marks)]
    for line in layout.lines:
        per_mark: dict[int, list[str]] = {}
        for char, glyph in zip(line.text, line.glyphs, strict=True):
            for owner in covered.get(glyph, ()) if glyph is not None else ():
                per_mark.setdefault(owner, []).append(char)
        for owner, chars in per_mark.items():
            text = "".join(chars)
            if text.strip():
                pieces[owner].append(text)
    return [" ".join(parts) for parts in pieces]


def _verify(target: Path, marks: Sequence[RedactionMark]) -> None:
    """Raise if any glyph other than the stamps still lies under a box in the written file."""
    by_page: dict[int, list[RedactionMark]] = {}
    for mark in marks:
        by_page.setdefault(mark.page, []).append(mark)
    for layout in analyze_pdf(target, lines=False):
        page_marks = by_page.get(layout.number, [])
        if not page_marks:
            continue
        codes = {(mark.exemption or "").encode("latin-1", "replace") for mark in page_marks}
        first_stamp = len(layout.ops) - len(page_marks)
        stamps = {g for position, op in enumerate(layout.ops) if position >= first_stamp
                  and [bytes(s) for s in op.seq if isinstance(s, bytes)] in ([c] for c in codes) for g in op.glyphs}
        boxes = boxes_array(layout.glyphs)
        for mark in page_marks:
            if any(int(index) not in stamps for index in intersecting(boxes, mark.box)):
                raise RedactionError(f"page {layout.number}: text still lies under a redaction box after "
                                     "rewriting; nothing was written", where=str(target),
                                     hint="report this PDF; redact it by hand")


def redact_pdf(source: Path, target: Path, marks: Sequence[RedactionMark], *,
               pages: Sequence[PageLayout] | None = None) -> list[AppliedRedaction]:
    """Write ``source`` to ``target`` with every mark's text removed and boxed; return what was removed.

    Marks on pages that do not exist raise :class:`RedactionError`. ``pages`` may pass the layout already
    computed for ``source``. The file is written atomically and only after the result has been verified.
    """
    layouts = list(pages) if pages is not None else analyze_pdf(source)
    by_page: dict[int, list[RedactionMark]] = {}
    for mark in marks:
        if not 1 <= mark.page <= len(layouts):
            raise RedactionError(f"page {mark.page} does not exist (the document has {len(layouts)} pages)",
                                 where=str(source), hint="number pages from 1")
        x0, y0, x1, y1 = mark.box
        if not (x1 > x0 and y1 > y0):
            raise RedactionError(f"redaction box {mark.box} is empty", where=f"{source} page {mark.page}",
                                 hint="give the box as x0,y0,x1,y1 with x1 > x0 and y1 > y0 (points)")
        by_page.setdefault(mark.page, []).append(mark)
    applied: list[AppliedRedaction] = []
    values: set[str] = set()
    removals: dict[int, set[int]] = {}
    for number, page_marks in sorted(by_page.items()):
        layout = layouts[number - 1]
        covered = _covered(layout, page_marks)
        removals[number] = set(covered)
        texts = _removed_texts(layout, covered, len(page_marks))
        for index, (mark, text) in enumerate(zip(page_marks, texts, strict=True)):
            applied.append(AppliedRedaction(mark, sum(1 for owners in covered.values() if index in owners), text))
            values |= {" ".join(v.split()) for v in (mark.value, text) if v and v.strip()}
    # one pattern for every redacted value, to find them again in annotations, fields and metadata
    patterns = [re.compile("|".join(f"(?:{value_pattern(v).pattern})" for v in sorted(values)), re.IGNORECASE)]
    if not values:
        patterns = []
    try:
        pdf = pikepdf.open(source)
    except pikepdf.PdfError as exc:
        raise RedactionError(f"pikepdf cannot open the PDF: {exc}", where=str(source)) from exc
    with pdf:
        removed_annots: set[tuple[int, int]] = set()
        for number, page_marks in sorted(by_page.items()):
            layout = layouts[number - 1]
            page = pdf.pages[number - 1]
            _rewrite_page(pdf, page, layout, removals[number], page_marks)
            removed_annots |= _scrub_annotations(page, layout, page_marks, patterns)
        _scrub_document(pdf, removed_annots, patterns)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=".redacting-", suffix=".pdf", dir=target.parent)
        os.close(handle)
        temp = Path(temp_name)
        try:
            pdf.save(temp, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                     deterministic_id=True)
            _verify(temp, marks)
            os.replace(temp, target)
        finally:
            if temp.exists():
                temp.unlink()
    return applied

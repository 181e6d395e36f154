"""Destructive PDF redaction: the text is gone from the file (pdfminer, raw streams, metadata), the box is visible."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from disclose_fixtures import DIF_SCORE, EMPLOYER_EIN, REQUESTER, REQUESTER_SSN, THIRD_PARTY, THIRD_PARTY_SSN, TOLERANCE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdfminer.high_level import extract_text
from PIL import Image
from reportlab.pdfgen import canvas

from taxaudit.disclose.errors import RedactionError
from taxaudit.disclose.pdf_layout import analyze_pdf, intersects
from taxaudit.disclose.pdf_redact import RedactionMark, find_pdf_marks, redact_pdf
from taxaudit.disclose.rules import Terms, load_rule_pack

TERMS = Terms({"names": [THIRD_PARTY]}, allow=[REQUESTER, REQUESTER_SSN])


def uncompressed_bytes(path: Path, tmp_path: Path) -> bytes:
    """Return the file rewritten by qpdf with every stream decoded: what a determined reader could see."""
    plain = tmp_path / f"{path.stem}.qdf.pdf"
    with pikepdf.open(path) as pdf:
        pdf.save(plain, qdf=True, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.all)
    return plain.read_bytes()


def redact_with_rules(source: Path, target: Path, terms: Terms = TERMS) -> list:
    pages = analyze_pdf(source)
    marks = find_pdf_marks(pages, load_rule_pack(), terms)
    return redact_pdf(source, target, marks, pages=pages)


def glyph_positions(path: Path, page: int, text: str) -> list[tuple[str, float, float]]:
    """Return (char, x0, y0) of the first layout line containing ``text``, from ``text`` onwards."""
    layout = analyze_pdf(path)[page - 1]
    for line in layout.lines:
        at = line.text.find(text)
        if at >= 0:
            return [(layout.glyphs[g].text, round(layout.glyphs[g].bbox[0], 3), round(layout.glyphs[g].bbox[1], 3))
                    for g in line.glyphs[at:at + len(text)] if g is not None]
    raise AssertionError(f"{text!r} not found")


def dark_fraction(image: Image.Image, box: tuple[float, float, float, float], page_height: float,
                  scale: float) -> float:
    """Return the share of near-black pixels inside ``box`` (PDF points, origin lower-left) of a rendering."""
    x0, y0, x1, y1 = box
    crop = image.convert("L").crop((int(x0 * scale) + 1, int((page_height - y1) * scale) + 1,
                                    int(x1 * scale) - 1, int((page_height - y0) * scale) - 1))
    pixels = list(crop.tobytes())
    return sum(1 for p in pixels if p < 60) / len(pixels)


def test_rule_redaction_leaves_no_protected_string_extractable(letter_pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    applied = redact_with_rules(letter_pdf, out)
    assert {a.mark.rule_id for a in applied} == {"ssn", "third_party_name", "ein", "bank_account", "dif_score",
                                                "dif_form_code", "tolerance_criteria"}
    text = extract_text(out)
    raw = uncompressed_bytes(out, tmp_path)
    for secret in (THIRD_PARTY_SSN, THIRD_PARTY, EMPLOYER_EIN, "4400123456", TOLERANCE, "Public"):
        assert secret not in text
        assert secret.encode() not in raw
    assert "DIF Score: 4321" not in text and "Score: 27" not in text
    # Labels stay in clear (TIGTA 2023-10-055 p. 5: "DIF Score" is not protected) and so does the
    # requester's own SSN (TIGTA: requesters' own information was wrongly withheld).
    assert "DIF Score:" in text and "Form Code:" in text
    assert REQUESTER_SSN in text and REQUESTER in text
    assert "(b)(7)(E)" in text and "(b)(3)/6103(a)" in text and "(b)(7)(C)" in text
    assert DIF_SCORE == "4321"


def test_glyphs_left_on_a_redacted_line_do_not_move(letter_pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    redact_with_rules(letter_pdf, out)
    assert glyph_positions(out, 1, " held at First Bank") == glyph_positions(letter_pdf, 1, " held at First Bank")
    assert glyph_positions(out, 1, "Third party contact:") == glyph_positions(letter_pdf, 1, "Third party contact:")


def test_rendered_page_shows_an_opaque_box_where_the_ssn_was(letter_pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    applied = redact_with_rules(letter_pdf, out)
    box = next(a.mark.box for a in applied if a.mark.rule_id == "ssn")
    scale = 3.0
    before = pdfium.PdfDocument(str(letter_pdf))[0].render(scale=scale).to_pil()
    after_doc = pdfium.PdfDocument(str(out))
    after = after_doc[0].render(scale=scale).to_pil()
    after.save(tmp_path / "page1.png")
    assert dark_fraction(before, box, 792, scale) < 0.35
    assert dark_fraction(after, box, 792, scale) > 0.6
    # the white exemption stamp is drawn inside the box
    assert dark_fraction(after, box, 792, scale) < 0.99
    assert Image.open(tmp_path / "page1.png").size == (int(612 * scale), int(792 * scale))


def test_manual_box_by_coordinates_removes_every_glyph_it_touches(letter_pdf: Path, tmp_path: Path) -> None:
    before = glyph_positions(letter_pdf, 1, "Acme Widgets LLC")
    widgets = next(x for ch, x, _ in before if ch == "W")
    mark = RedactionMark(1, (widgets + 1, 675, widgets + 30, 690), "(b)(6)", "reviewer's call", reviewer="kim")
    (applied,) = redact_pdf(letter_pdf, tmp_path / "out.pdf", [mark])
    text = extract_text(tmp_path / "out.pdf")
    assert applied.glyphs_removed >= 5 and "Widget" not in text and "Acme" in text and "LLC" in text
    assert applied.removed_text.startswith("Widg")


def test_tj_arrays_quote_operators_and_spacing_are_split_in_place(tmp_path: Path) -> None:
    source = tmp_path / "tj.pdf"
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name("/Times-Roman")))
    content = (b"BT /F1 12 Tf 14 TL 1 0 0 1 72 700 Tm 0.4 Tc 2 Tw "
               b"[(Payee ) -250 (SSN 987-6) 30 (5-4321 paid) 120 ( in full)] TJ "
               b"(Second line 987-65-4321 tail) ' 1 0.5 (Third line 987-65-4321 finis) \" ET")
    page = pdf.add_blank_page(page_size=(612, 792))
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(content)
    pdf.save(source)
    out = tmp_path / "tj_out.pdf"
    applied = redact_with_rules(source, out, Terms())
    # one box per line: the " operator moves to the next line before showing its string
    assert sorted(round(a.mark.box[1]) for a in applied) == [669, 683, 697]
    text = " ".join(extract_text(out).split())
    assert "987" not in text and "4321" not in text
    assert "Payee SSN" in text and "paid in full" in text and "tail" in text and "finis" in text
    for kept in ("full", "tail", "finis"):
        assert glyph_positions(out, 1, kept) == glyph_positions(source, 1, kept)


def test_annotations_metadata_and_form_fields_holding_the_value_are_removed(tmp_path: Path) -> None:
    source = tmp_path / "annotated.pdf"
    pdf = canvas.Canvas(str(source), pagesize=(612, 792))
    pdf.setSubject(f"Interview of {THIRD_PARTY}, SSN {THIRD_PARTY_SSN}")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, 720, f"Witness SSN {THIRD_PARTY_SSN}")
    pdf.textAnnotation(f"check {THIRD_PARTY_SSN} again", Rect=(400, 600, 420, 620), relative=0)
    pdf.acroForm.textfield(name="witness_ssn", value=THIRD_PARTY_SSN, x=72, y=500, width=150, height=18)
    pdf.showPage()
    pdf.save()
    with pikepdf.open(source, allow_overwriting_input=True) as edited:
        with edited.open_metadata(set_pikepdf_as_editor=False) as xmp:
            xmp["dc:description"] = f"notes on {THIRD_PARTY_SSN}"
        edited.Root.Outlines = edited.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines))
        item = edited.make_indirect(pikepdf.Dictionary(Title=f"Witness {THIRD_PARTY_SSN}",
                                                       Parent=edited.Root.Outlines))
        edited.Root.Outlines.First = edited.Root.Outlines.Last = item
        edited.save(source)
    assert THIRD_PARTY_SSN.encode() in uncompressed_bytes(source, tmp_path)
    out = tmp_path / "annotated_out.pdf"
    redact_with_rules(source, out)
    raw = uncompressed_bytes(out, tmp_path)
    assert THIRD_PARTY_SSN.encode() not in raw
    assert THIRD_PARTY_SSN not in extract_text(out)


def test_weasyprint_pdf_with_cid_fonts_is_redacted(tmp_path: Path) -> None:
    from taxaudit.report.html import write_pdf

    source = write_pdf(f"<p>Witness {THIRD_PARTY}, SSN {THIRD_PARTY_SSN}, stated facts.</p>"
                       "<p>DIF Score: 912</p>", tmp_path / "weasy.pdf")
    out = tmp_path / "weasy_out.pdf"
    redact_with_rules(source, out)
    text = extract_text(out)
    assert THIRD_PARTY_SSN not in text and THIRD_PARTY not in text and "912" not in text
    assert "stated facts." in text and "DIF Score:" in text


@pytest.mark.parametrize(("mark", "message"), [
    (RedactionMark(3, (10, 10, 20, 20), "(b)(6)", "x"), "page 3 does not exist"),
    (RedactionMark(1, (50, 50, 40, 60), "(b)(6)", "x"), "is empty"),
])
def test_bad_marks_are_refused_and_nothing_is_written(letter_pdf: Path, tmp_path: Path, mark: RedactionMark,
                                                      message: str) -> None:
    with pytest.raises(RedactionError, match=message):
        redact_pdf(letter_pdf, tmp_path / "never.pdf", [mark])
    assert not (tmp_path / "never.pdf").exists()


def test_an_image_under_a_box_has_its_pixels_blacked_out(tmp_path: Path) -> None:
    picture = tmp_path / "scan.png"
    Image.new("RGB", (200, 100), (250, 250, 250)).save(picture)
    source = tmp_path / "image.pdf"
    pdf = canvas.Canvas(str(source), pagesize=(612, 792))
    pdf.drawImage(str(picture), 100, 600, width=400, height=200)  # 2 points per pixel
    pdf.drawImage(str(picture), 100, 300, width=400, height=200)  # the same image again, not covered
    pdf.showPage()
    pdf.save()
    out = tmp_path / "image_out.pdf"
    # box over image x 150..250, y 700..760 -> pixels columns 25..75, rows 20..50 from the top
    redact_pdf(source, out, [RedactionMark(1, (150, 700, 250, 760), "(b)(6)", "signature")])
    with pikepdf.open(out) as result:
        pictures = {str(key): pikepdf.PdfImage(image).as_pil_image().convert("RGB")
                    for key, image in result.pages[0].Resources.XObject.items()}
    assert len(pictures) == 2
    edited = [p for p in pictures.values() if p.getpixel((50, 35)) == (0, 0, 0)]
    untouched = [p for p in pictures.values() if p.getpixel((50, 35)) == (250, 250, 250)]
    assert len(edited) == 1 and len(untouched) == 1
    image = edited[0]
    assert image.getpixel((25, 20)) == (0, 0, 0) and image.getpixel((74, 49)) == (0, 0, 0)
    assert image.getpixel((23, 35)) == (250, 250, 250) and image.getpixel((50, 52)) == (250, 250, 250)


def test_an_inline_image_under_a_box_fails_closed(tmp_path: Path) -> None:
    source = tmp_path / "inline.pdf"
    pdf = canvas.Canvas(str(source), pagesize=(612, 792))
    pdf.drawInlineImage(Image.new("RGB", (40, 20), "navy"), 100, 600, width=80, height=40)
    pdf.showPage()
    pdf.save()
    with pytest.raises(RedactionError, match="inline image"):
        redact_pdf(source, tmp_path / "never.pdf", [RedactionMark(1, (110, 610, 150, 630), "(b)(6)", "signature")])
    assert not (tmp_path / "never.pdf").exists()


def test_not_a_pdf_and_encrypted_pdf_are_refused(letter_pdf: Path, tmp_path: Path,
                                                 make_pdf: Callable[..., Path]) -> None:
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.4 this is not really a pdf")
    with pytest.raises(RedactionError):
        analyze_pdf(junk)
    locked = tmp_path / "locked.pdf"
    with pikepdf.open(letter_pdf) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(owner="owner", user="user"))
    with pytest.raises(RedactionError, match="encrypted"):
        analyze_pdf(locked)


def test_rotated_page_with_offset_mediabox_is_matched_and_boxed_in_place(letter_pdf: Path, tmp_path: Path) -> None:
    source = tmp_path / "rotated.pdf"
    with pikepdf.open(letter_pdf) as pdf:
        pdf.pages[0].Rotate = 90
        pdf.pages[0].MediaBox = [10, 20, 622, 812]  # the text keeps its place relative to the new origin
        pdf.save(source)
    out = tmp_path / "rotated_out.pdf"
    applied = redact_with_rules(source, out)
    assert THIRD_PARTY_SSN not in extract_text(out)
    u0, v0, u1, v1 = next(a.mark.box for a in applied if a.mark.rule_id == "ssn" and a.mark.page == 1)
    scale = 3.0
    image = pdfium.PdfDocument(str(out))[0].render(scale=scale).to_pil().convert("L")
    assert image.size == (int(792 * scale), int(612 * scale))  # displayed turned a quarter clockwise
    # clockwise: unrotated (u, v) from the MediaBox corner is shown at x = v, y = u from the top
    crop = image.crop((int(v0 * scale) + 1, int(u0 * scale) + 1, int(v1 * scale) - 1, int(u1 * scale) - 1))
    pixels = crop.tobytes()
    assert sum(1 for p in pixels if p < 60) / len(pixels) > 0.6


def test_text_inside_form_xobjects_is_removed_from_a_private_copy(tmp_path: Path) -> None:
    source = tmp_path / "forms.pdf"
    pdf = canvas.Canvas(str(source), pagesize=(612, 792))
    pdf.beginForm("inner")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, 600, f"Inner note: {THIRD_PARTY_SSN} checked")
    pdf.endForm()
    pdf.beginForm("header")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, 740, f"Header for witness SSN {THIRD_PARTY_SSN}")
    pdf.doForm("inner")
    pdf.endForm()
    pdf.doForm("header")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, 700, "Body text stays")
    pdf.showPage()
    pdf.doForm("header")  # page 2 draws the same form; it is not redacted here
    pdf.showPage()
    pdf.save()
    pages = analyze_pdf(source)
    marks = [m for m in find_pdf_marks(pages, load_rule_pack(), Terms()) if m.page == 1]
    assert len(marks) == 2
    out = tmp_path / "forms_out.pdf"
    redact_pdf(source, out, marks, pages=pages)
    page_texts = [" ".join(layout.text().split()) for layout in analyze_pdf(out)]
    assert THIRD_PARTY_SSN not in page_texts[0]
    assert "Header for witness SSN" in page_texts[0] and "Inner note:" in page_texts[0] and "checked" in page_texts[0]
    assert "Body text stays" in page_texts[0]
    assert page_texts[1].count(THIRD_PARTY_SSN) == 2  # the other use of the form is untouched
    with pikepdf.open(out) as result:
        first_page_streams = [result.pages[0].Contents.read_bytes()]
        for xobject in result.pages[0].Resources.XObject.values():
            first_page_streams.append(xobject.read_bytes())
            first_page_streams += [inner.read_bytes() for inner in xobject.Resources.get("/XObject", {}).values()]
    assert all(THIRD_PARTY_SSN.encode() not in stream for stream in first_page_streams)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x0=st.floats(60, 400), y0=st.floats(640, 730), width=st.floats(4, 200), height=st.floats(2, 40))
def test_no_glyph_under_any_box_survives(letter_pdf: Path, tmp_path_factory: pytest.TempPathFactory, x0: float,
                                         y0: float, width: float, height: float) -> None:
    box = (x0, y0, x0 + width, y0 + height)
    before = analyze_pdf(letter_pdf)[0]
    covered = "".join(g.text for g in before.glyphs if intersects(g.bbox, box))
    out = tmp_path_factory.mktemp("prop") / "out.pdf"
    (applied,) = redact_pdf(letter_pdf, out, [RedactionMark(1, box, "(b)(6)", "property")])
    after = analyze_pdf(out, lines=False)[0]
    stamp = set(after.ops[-1].glyphs) if after.ops and after.ops[-1].seq == [b"(b)(6)"] else set()
    assert all(not intersects(g.bbox, box) for g in after.glyphs if g.index not in stamp)
    assert applied.glyphs_removed == len(covered)
    assert len(after.glyphs) - len(stamp) == len(before.glyphs) - applied.glyphs_removed

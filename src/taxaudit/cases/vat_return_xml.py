"""Write a Russian VAT return (КНД 1151001) in the FNS XML layout that :mod:`taxaudit.ingest.returns` reads.

Used to build demonstration and test returns; the element and attribute names are those of the electronic
format of приказ ФНС России от 29.10.2014 № ММВ-7-3/558@ (format version 5.08).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

QUARTER_CODES = {1: "21", 2: "22", 3: "23", 4: "24"}


def vat_return_xml(*, inn: str, kpp: str, name: str, year: int, quarter: int, filed_on: date,
                   lines: dict[str, Decimal], correction_no: int = 0, tax_authority: str = "7701") -> bytes:
    """Return the windows-1251 XML bytes of a VAT return with the given section 1 and 3 lines.

    ``lines`` uses the codes of :mod:`taxaudit.ingest.returns` (``s3_010_base``, ``s3_010``, ``s3_118``,
    ``s3_120``, ``s3_190``, ``s3_200``/``s3_210``, ``s1_040``/``s1_050``); amounts are whole roubles.
    """
    def rub(code: str) -> str:
        return str(int(Decimal(lines.get(code, 0))))

    root = etree.Element("Файл", ИдФайл=f"NO_NDS_{tax_authority}_{tax_authority}_{inn}{kpp}_{filed_on:%Y%m%d}_1",
                         ВерсПрог="taxaudit", ВерсФорм="5.08")
    document = etree.SubElement(root, "Документ", КНД="1151001", ДатаДок=filed_on.strftime("%d.%m.%Y"),
                                Период=QUARTER_CODES[quarter], ОтчетГод=str(year), КодНО=tax_authority,
                                НомКорр=str(correction_no), ПоМесту="214")
    taxpayer = etree.SubElement(document, "СвНП", ОКВЭД="46.90")
    etree.SubElement(taxpayer, "НПЮЛ", НаимОрг=name, ИННЮЛ=inn, КПП=kpp)
    signer = etree.SubElement(document, "Подписант", ПрПодп="1")
    etree.SubElement(signer, "ФИО", Фамилия="Иванов", Имя="Иван")
    vat = etree.SubElement(document, "НДС")
    signed_s1 = int(Decimal(lines.get("s1_040", 0))) - int(Decimal(lines.get("s1_050", 0)))
    etree.SubElement(vat, "СумУплНП", ОКТМО="45000000", КБК="18210301000011000110", **{"СумПУ_173.1": str(signed_s1)})
    signed_s3 = int(Decimal(lines.get("s3_200", 0))) - int(Decimal(lines.get("s3_210", 0)))
    section3 = etree.SubElement(vat, "СумУпл164", НалПУ164=str(signed_s3))
    calculated = etree.SubElement(section3, "СумНалОб", НалВосстОбщ=rub("s3_118"))
    for element, line in (("РеалТов20", "010"), ("РеалТов10", "020"), ("РеалТов120", "030"), ("РеалТов110", "040"),
                          ("ОплПредПост", "070")):
        if f"s3_{line}_base" in lines or f"s3_{line}" in lines:
            etree.SubElement(calculated, element, НалБаза=rub(f"s3_{line}_base"), СумНал=rub(f"s3_{line}"))
    deductions = {"НалПредНППриоб": "120", "НалИсчПрод": "170", "НалВычОбщ": "190"}
    etree.SubElement(section3, "СумНалВыч", **{name: rub(f"s3_{line}") for name, line in deductions.items()})
    return etree.tostring(root, xml_declaration=True, encoding="windows-1251", pretty_print=True)

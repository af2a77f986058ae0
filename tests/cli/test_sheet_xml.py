"""The fast worksheet reader against the expat one, on XML that tempts a regular expression.

:func:`~xl_var_cli.workbook.sheet_scan.read_sheet_fast` must read exactly what
:func:`~xl_var_cli.workbook.sheet_scan.read_sheet_expat` reads (spans, attributes in order,
texts, coordinates) or give up; writing values must give the same bytes either way; and
:func:`~xl_var_cli.workbook.package.check_xml` must refuse what ``parse_xml`` refuses, with
the same message.
"""

from __future__ import annotations

from typing import Any

import pytest

from xl_var_cli.errors import CliError
from xl_var_cli.workbook import sheet_scan
from xl_var_cli.workbook.cells import ErrorValue
from xl_var_cli.workbook.package import check_xml, parse_xml
from xl_var_cli.workbook.sheet_scan import Sheet, read_sheet_expat, read_sheet_fast
from xl_var_cli.workbook.sheet_xml import _CellEdit, _patch_sheet

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _sheet(rows: str, head: str = '<dimension ref="A1:C3"/>', root: str = "worksheet", prefix: str = "",
           declaration: str = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n') -> bytes:
    ns = f'xmlns:{prefix[:-1]}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    return (f"{declaration}<{prefix}{root} {ns}>{head}<{prefix}sheetData>{rows}</{prefix}sheetData>"
            f"<{prefix}pageMargins left='0.7' right=\"0.7\"/></{prefix}{root}>").encode()


READ_FAST = {
    "plain": _sheet('<row r="1" spans="1:3"><c r="A1" s="1"><v>1.5</v></c><c r="B1" t="s"><v>0</v></c>'
                    '<c r="C1"><f>A1*2</f><v>3</v></c></row>'),
    "prefixed": _sheet('<x:row r="1"><x:c r="A1"><x:f t="array" ref="A1:A2">SUM(B1:B2)</x:f><x:v>1</x:v></x:c>'
                       '<x:c r="B1" cm="1"><x:f t="shared" ref="B1:B3" si="0">C1</x:f></x:c></x:row>',
                       head='<x:dimension ref="A1"/>', prefix="x:"),
    "> and quotes in attributes": _sheet(
        '<row r="1" x14ac:dyDescent=\'0.2\' xmlns:x14ac="urn:x"><c r="A1" s = "1" foo=\'a>b"c\' bar="x\'>y">'
        '<f aca="1"  t = \'normal\'>IF(A2&gt;0,"a&amp;b",&quot;&lt;&quot;)</f><v>x&amp;y</v></c>'
        '<c\n r="B1"\ts="2"\r\n/></row>'),
    "references and line ends": _sheet('<row r="1"><c r="A1" t="str" k="a&#10;b&#x41;&amp;\tc\r\nd">'
                                       '<f>"a"&amp;CHAR(10)</f><v>line\r\none\rtwo&#13;&#x20AC;</v></c>'
                                       '<c r="B1" w="a\tb\r\nc\nd" s=\'1\'/></row>'),
    "self-closing and empty": _sheet('<row r="1"/><row r="2"><c r="A2"/><c r="B2" s="3" /><c r="C2"><f/><v/></c>'
                                     '<c r="D2"><f></f><v></v></c></row><row r="3" spans="1:1"></row>'),
    "inline strings and extLst": _sheet(
        '<row r="1"><c r="A1" t="inlineStr"><is><r><rPr><b/><sz val="11"/></rPr><t xml:space="preserve"> x </t>'
        '</r><r><t>&lt;c&gt;</t></r></is></c><c r="B1"><f>1</f><v>1</v><extLst><ext uri="{1}">'
        '<x14:c xmlns:x14="urn:y"><c/></x14:c></ext></extLst></c>'
        '<c r="C1" t="inlineStr"><is/></c></row>'),
    "whitespace between elements": _sheet('\n  <row r="1">\n    <c r="A1">\n      <f>1+1</f>\n      <v>2</v>\n'
                                          '    </c >\n  </row >\n'),
    "coordinates the long way": _sheet(
        '<row><c><v>1</v></c><c r="C1"/><c/></row><row r="5"><c r="a5"/><c/><c r="$D$5"/><c r="E9"/><c/>'
        '<c r="ZZZ5"/></row><row r="7"><c r="A07"/><c r="AB7"/><c/></row><row><c r="B8"/><c r="B8"><v>2</v></c></row>'),
    "rows out of order and repeated": _sheet('<row r="3"><c r="A3"/></row><row r="1"><c r="A1"/></row>'
                                             '<row r="3"><c r="B3"/></row>'),
    "comments, PIs, BOM outside sheetData": b"\xef\xbb\xbf" + _sheet(
        '<row r="1"><c r="A1"><v>1</v></c></row>',
        head='<!-- a <sheetData> in a comment --><?pi <sheetData>?><sheetPr codeName="&lt;sheetData&gt;"/>'
             '<dimension ref="A1"></dimension><dimension ref="Z9"/>'),
    "non-ASCII": _sheet('<row r="1"><c r="A1" t="str"><f>"é"&amp;"€"</f><v>é€😀</v></c></row>'),
    "empty sheetData": _sheet("").replace(b"<sheetData></sheetData>", b"<sheetData/>"),
    "no dimension": _sheet('<row r="1"><c r="A1"/></row>', head=""),
    "another root name": _sheet('<row r="1"><c r="A1"/></row>', root="chartsheet"),
    "no declaration": _sheet('<row r="1"><c r="A1"/></row>', declaration=""),
}

FALL_BACK = {
    "comment in sheetData": _sheet('<row r="1"><!-- </c> --><c r="A1"/></row>'),
    "comment in a cell": _sheet('<row r="1"><c r="A1"><!-- x --><v>1</v></c></row>'),
    "CDATA": _sheet('<row r="1"><c r="A1" t="str"><v><![CDATA[<b>]]></v></c></row>'),
    "processing instruction": _sheet('<row r="1"><c r="A1"><?pi x?></c></row>'),
    "comment in an inline string": _sheet('<row r="1"><c r="A1" t="inlineStr"><is><!-- </is> --></is></c></row>'),
    "latin-1": _sheet('<row r="1"><c r="A1" t="str"><v>\xe9</v></c></row>',
                      declaration='<?xml version="1.0" encoding="ISO-8859-1"?>').replace(b"\xc3\xa9", b"\xe9"),
    "UTF-16": _sheet('<row r="1"><c r="A1"/></row>', declaration="").decode().encode("utf-16"),
    "mixed prefixes": _sheet(f'<row r="1" xmlns="{MAIN}"><c r="A1"/></row>', prefix="x:"),
    "other element in a row": _sheet('<row r="1"><c r="A1"/><extLst/></row>'),
    "children out of order": _sheet('<row r="1"><c r="A1"><v>1</v><f>B1</f></c></row>'),
    "two formulas": _sheet('<row r="1"><c r="A1"><f>1</f><f>2</f></c></row>'),
    "text in a cell": _sheet('<row r="1"><c r="A1">x<v>1</v></c></row>'),
    "text in a row": _sheet('<row r="1">x<c r="A1"/></row>'),
    "cell outside a row": _sheet('<c/><row r="2"/>'),
    "element in a formula": _sheet('<row r="1"><c r="A1"><f>1<x/></f></c></row>'),
    "dimension after sheetData": _sheet('<row r="1"><c r="A1"/></row>', head="").replace(
        b"<pageMargins", b'<dimension ref="A1"/><pageMargins'),
    "no sheetData": b'<worksheet xmlns="' + MAIN.encode() + b'"><dimension ref="A1"/></worksheet>',
}


def _strict(sheet: Sheet) -> Any:
    """Everything a reader reports, attribute order and cell order included."""
    def span(s: Any) -> Any:
        return None if s is None else (s.name, s.qname, list(s.attrs.items()), s.start, s.open_end, s.end, s.empty,
                                       s.path, s.text, s.children)
    return (sheet.data, span(sheet.sheet_data), span(sheet.dimension),
            [(n, span(r)) for n, r in sheet.rows.items()],
            [(k, c.start, c.end, list(c.attrs.items()), span(c.row), c.v, c.ext,
              None if c.f is None else (c.f.start, c.f.end, list(c.f.attrs.items()), c.f.text))
             for k, c in sheet.cells.items()])


@pytest.mark.parametrize("name", READ_FAST)
def test_fast_reader_reads_what_expat_reads(name: str) -> None:
    data = READ_FAST[name]
    check_xml(data, name)  # well-formed, as every part is once read
    fast = read_sheet_fast(data)
    assert fast is not None, "the fast reader gave up"
    assert _strict(fast) == _strict(read_sheet_expat(data))


@pytest.mark.parametrize("name", FALL_BACK)
def test_fast_reader_gives_up_on_what_it_does_not_know(name: str) -> None:
    data = FALL_BACK[name]
    check_xml(data, name)
    assert read_sheet_fast(data) is None
    sheet_scan.read_sheet.cache_clear()
    assert _outcome(sheet_scan.read_sheet, data) == _outcome(read_sheet_expat, data)


def _outcome(read: Any, data: bytes) -> Any:
    try:
        return _strict(read(data))
    except ValueError as exc:  # what the expat reader makes of a UTF-16 part
        return repr(exc)


def _edits(sheet: Sheet) -> dict[str, _CellEdit]:
    values = [2.5, True, "a<b>&\"'\x01", ErrorValue("#DIV/0!"), 7]
    edits = {coord: _CellEdit(value=values[i % len(values)], clear=i % 7 == 3, plain=i % 5 == 2,
                              array_ref=f"{coord}:{coord}" if i % 6 == 1 else None, cm="1" if i % 6 == 1 else None)
             for i, coord in enumerate(sheet.cells)}
    return edits | {"D1": _CellEdit(value=1.0), "A4": _CellEdit(value="new row"), "B100": _CellEdit(value=False)}


@pytest.mark.parametrize("name", READ_FAST)
def test_writing_does_not_depend_on_the_reader(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = READ_FAST[name]
    edits = _edits(read_sheet_expat(data))
    sheet_scan.read_sheet.cache_clear()
    fast = _patch_sheet(data, edits)
    monkeypatch.setattr(sheet_scan, "read_sheet_fast", lambda data: None)
    sheet_scan.read_sheet.cache_clear()
    assert _patch_sheet(data, edits) == fast
    sheet_scan.read_sheet.cache_clear()
    check_xml(fast, name)


@pytest.mark.parametrize("data", [
    b"<a/>", b"<a>", b"", b"<a><b></a>", b"<x:a/>", b"<a>&undefined;</a>", b"<a/>junk", b'<a b="1" b="2"/>',
    b"<a>\xff</a>", b"<a>&#0;</a>", b'<?xml version="1.0" encoding="UTF-16"?><a/>', "<a/>".encode("utf-16"),
    b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', b'<!DOCTYPE a SYSTEM "http://example.com/a.dtd"><a/>',
])
def test_check_xml_refuses_what_parse_xml_refuses(data: bytes) -> None:
    def outcome(check: Any) -> str:
        try:
            check(data, "part")
        except CliError as exc:
            return str(exc)
        return "ok"
    assert outcome(check_xml) == outcome(parse_xml)

"""Bad input: one line naming the file and the problem, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest
from xlvar_books import run_cli

from workbooks import SAMPLE_RETURNS, SAMPLE_WEIGHTS, TEMPLATES
from xl_var_cli.main import main
from xl_var_cli.workbook.package import LIMITS


@pytest.fixture(scope="module")
def good_xlsx(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("good") / "good.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = 1
    wb.active["A2"] = "=A1*2"
    wb.save(path)
    return path.read_bytes()


def _members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _zip(members: dict[str, bytes], level: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", level) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _refresh_fails(tmp_path: Path, raw: bytes, capsys: pytest.CaptureFixture[str], *expected: str) -> None:
    book = tmp_path / "book.xlsx"
    book.write_bytes(raw)
    assert main(["refresh", str(book)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert str(book) in err
    for words in expected:
        assert words in err, err
    assert book.read_bytes() == raw  # nothing written
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]


def test_not_a_workbook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refresh_fails(tmp_path, b"Date,BTC\n2024-01-01,0.1\n", capsys, "is not an Excel workbook")


def test_zip_that_is_not_a_workbook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refresh_fails(tmp_path, _zip({"hello.txt": b"hi"}), capsys, "not an Excel workbook")


def test_truncated(tmp_path: Path, good_xlsx: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    _refresh_fails(tmp_path, good_xlsx[: len(good_xlsx) // 2], capsys, "truncated or damaged")


def test_corrupted_part(tmp_path: Path, good_xlsx: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    raw = bytearray(good_xlsx)
    with zipfile.ZipFile(io.BytesIO(good_xlsx)) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    data_at = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[data_at + 5] ^= 0xFF  # flip a byte of the compressed data: bad inflate or CRC
    _refresh_fails(tmp_path, bytes(raw), capsys, "damaged")


def test_password_protected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # what Excel writes for an encrypted book
    _refresh_fails(tmp_path, ole, capsys, "password-protected")


def test_zip_encryption_flag(tmp_path: Path, good_xlsx: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    raw = bytearray(good_xlsx)
    at = raw.find(b"PK\x01\x02")  # first central directory entry: set "encrypted" in its flags
    flags = struct.unpack_from("<H", raw, at + 8)[0]
    struct.pack_into("<H", raw, at + 8, flags | 1)
    _refresh_fails(tmp_path, bytes(raw), capsys, "encrypted")


def test_zip_bomb_refused_before_inflating(tmp_path: Path, good_xlsx: bytes,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    members = _members(good_xlsx)
    members["customXml/item1.xml"] = bytes(4 * LIMITS.ratio_floor)  # zeros compress about 1000:1
    _refresh_fails(tmp_path, _zip(members), capsys, "zip bomb", "customXml/item1.xml")
    # The limits apply to what is inflated: the XML parts. An image or VBA project is never
    # inflated, only copied (tests/cli/test_refresh.py: test_unread_parts_are_copied_compressed).


def test_xml_bomb_refused(tmp_path: Path, good_xlsx: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    members = _members(good_xlsx)
    laughs = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    members["xl/workbook.xml"] = (
        '<?xml version="1.0"?><!DOCTYPE workbook [' + "".join(laughs) + "]>" +
        members["xl/workbook.xml"].decode().split("?>", 1)[-1].replace("<sheets>", "<sheets>&lol9;", 1)
    ).encode()
    _refresh_fails(tmp_path, _zip(members), capsys, "refused", "DTD")


def test_binary_workbook(tmp_path: Path, good_xlsx: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    members = _members(good_xlsx)
    members["_rels/.rels"] = members["_rels/.rels"].replace(b"xl/workbook.xml", b"xl/workbook.bin")
    _refresh_fails(tmp_path, _zip(members), capsys, ".xlsb")


def _report_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], *expected: str) -> None:
    out = tmp_path / "out" / "report.xlsx"
    out.parent.mkdir()
    assert main(["report", *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    for words in expected:
        assert words in err, err
    assert list(out.parent.iterdir()) == []


def test_template_missing_a_named_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb = openpyxl.load_workbook(TEMPLATES / "report.xlsx")
    del wb.defined_names["HistES"]
    wb.save(tmp_path / "t.xlsx")
    _report_fails(tmp_path, capsys, ["--template", str(tmp_path / "t.xlsx"), "--returns", str(SAMPLE_RETURNS),
                                     "--weights", str(SAMPLE_WEIGHTS)], "t.xlsx", "no named range 'HistES'")


def test_template_that_is_not_a_workbook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.xlsx").write_text("not a workbook")
    _report_fails(tmp_path, capsys, ["--template", str(tmp_path / "t.xlsx"), "--returns", str(SAMPLE_RETURNS),
                                     "--weights", str(SAMPLE_WEIGHTS)], "t.xlsx", "not an Excel workbook")


def test_weights_for_other_assets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "w.csv").write_text("Asset,Weight\nBTC,0.5\nDOGE,0.5\n")
    _report_fails(tmp_path, capsys, ["--returns", str(SAMPLE_RETURNS), "--weights", str(tmp_path / "w.csv")],
                  "w.csv", "DOGE")


def test_wrong_number_of_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "w.csv").write_text("0.5\n0.5\n")
    _report_fails(tmp_path, capsys, ["--returns", str(SAMPLE_RETURNS), "--weights", str(tmp_path / "w.csv")],
                  "w.csv", "6 columns")


def test_returns_with_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.csv").write_text("Date,A,B\n2024-01-01,0.1,0.2\n2024-01-02,oops,0.1\n")
    (tmp_path / "w.csv").write_text("0.5\n0.5\n")
    _report_fails(tmp_path, capsys, ["--returns", str(tmp_path / "r.csv"), "--weights", str(tmp_path / "w.csv")],
                  "r.csv", "'oops'")


def test_template_too_small_for_the_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb = openpyxl.load_workbook(TEMPLATES / "report.xlsx")
    for row in range(6, 10):
        wb["Inputs"].cell(row=row, column=2).value = None
    wb["Inputs"]["B8"] = "a note in the way"  # inside the weights column the data need, outside the old range
    wb.defined_names["Weights"].attr_text = "'Inputs'!$B$4:$B$5"
    wb.save(tmp_path / "t.xlsx")
    _report_fails(tmp_path, capsys, ["--template", str(tmp_path / "t.xlsx"), "--returns", str(SAMPLE_RETURNS),
                                     "--weights", str(SAMPLE_WEIGHTS)], "t.xlsx", "would overwrite Inputs!B8")


def test_pdf_without_libreoffice_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    done = run_cli("report", "--returns", str(SAMPLE_RETURNS), "--weights", str(SAMPLE_WEIGHTS), "-o", str(out),
                   "--pdf", env={"PATH": str(tmp_path)})
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "LibreOffice" in done.stderr and not out.exists()


def test_no_traceback_from_the_console_script(tmp_path: Path) -> None:
    (tmp_path / "book.xlsx").write_bytes(b"PK\x03\x04 truncated")
    done = run_cli("refresh", str(tmp_path / "book.xlsx"))
    assert done.returncode == 2
    assert done.stderr.startswith("xl-var refresh: error: ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_returns_with_a_blank_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.csv").write_text("Date,A,B\n2024-01-01,0.1,0.2\n2024-01-02,,0.1\n2024-01-03,0.0,0.1\n")
    (tmp_path / "w.csv").write_text("0.5\n0.5\n")
    _report_fails(tmp_path, capsys, ["--returns", str(tmp_path / "r.csv"), "--weights", str(tmp_path / "w.csv")],
                  "r.csv", "row 3", "blank")


def test_returns_workbook_that_is_a_zip_bomb(tmp_path: Path, good_xlsx: bytes,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    members = _members(good_xlsx)
    members["xl/sharedStrings.xml"] = bytes(4 * LIMITS.ratio_floor)
    (tmp_path / "r.xlsx").write_bytes(_zip(members))
    _report_fails(tmp_path, capsys, ["--returns", str(tmp_path / "r.xlsx"), "--weights", str(SAMPLE_WEIGHTS)],
                  "r.xlsx", "zip bomb")

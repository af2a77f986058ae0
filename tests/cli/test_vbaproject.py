"""MS-OVBA compression, the compound file container and the VBA project, each read back by olefile/oletools."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest
import xlwings

from xl_var_cli import cfb, vbaproject
from xl_var_cli.vbaproject import Module

TEMPLATE = Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"


@pytest.fixture(scope="module")
def template_project() -> bytes:
    with zipfile.ZipFile(TEMPLATE) as z:
        return z.read("xl/vbaProject.bin")


def _samples() -> list[bytes]:
    rng = random.Random(7)
    text = (TEMPLATE.parent / "xlwings_custom_addin.bas").read_bytes()
    return [b"", b"a", b"abcabcabcabc", bytes(rng.randrange(256) for _ in range(5000)), text, text[:4096],
            b"\0" * 10000, bytes(rng.randrange(4) for _ in range(9000))]


@pytest.mark.parametrize("data", _samples())
def test_compression_round_trips_and_oletools_decompresses_it(data):
    olevba = pytest.importorskip("oletools.olevba")
    packed = vbaproject.compress(data)
    assert vbaproject.decompress(packed) == data
    assert bytes(olevba.decompress_stream(bytearray(packed))) == data


def test_compression_matches_the_spec_example():
    # [MS-OVBA] 3.2.3 "Example: Maximum Compression" / 3.2.1 "No Compression" round trips.
    assert vbaproject.decompress(bytes.fromhex("01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 "
                                               "00 71 72 73 2E")) == b"abcdefghijklmnopqrs."
    assert vbaproject.decompress(bytes.fromhex("01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A "
                                               "01 38 08 61 6B 6C 00 30 6D 6E 6F 70 06 71 02 70 04 10 72 73 74 "
                                               "75 76 10 77 78 79 7A 00 3C")) == \
        b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa"
    assert vbaproject.compress(b"abcdefghijklmnopqrs.")[3:] == bytes.fromhex(
        "00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 2E")


def test_malformed_compressed_data_is_refused():
    for bad in (b"", b"\x02\x00", b"\x01\x00\x00", b"\x01\x02\xb0\x01\x00\x00"):
        with pytest.raises(ValueError):
            vbaproject.decompress(bad)


def test_compound_file_round_trips_through_olefile():
    olefile = pytest.importorskip("olefile")
    rng = random.Random(3)
    streams = {f"S{i}/x{j}": bytes(rng.randrange(256) for _ in range(rng.choice([1, 63, 64, 700, 4095, 4096, 9000])))
               for i in range(3) for j in range(7)}
    streams["PROJECT"] = b"ID=1"
    data = cfb.write(streams)
    assert cfb.read(data) == streams
    ole = olefile.OleFileIO(io.BytesIO(data))
    assert {"/".join(p): ole.openstream(p).read() for p in ole.listdir()} == streams
    assert cfb.write(streams) == data  # no timestamps: the same streams give the same bytes


def test_compound_file_errors():
    with pytest.raises(cfb.CompoundFileError, match="signature"):
        cfb.read(b"PK" + bytes(600))
    with pytest.raises(cfb.CompoundFileError, match="1 to 31"):
        cfb.write({"A/" + "x" * 32: b""})


def test_the_template_project_reads_back_identically_to_oletools(template_project):
    olevba = pytest.importorskip("oletools.olevba")
    project = vbaproject.read_project(template_project)
    assert project.name == "MyAddin" and project.codepage == 1252
    parser = olevba.VBA_Parser("vbaProject.bin", data=template_project)
    theirs = {n.rsplit(".", 1)[0]: c for _, _, n, c in parser.extract_macros()}
    assert [m.name for m in project.modules] == list(theirs)
    for m in project.modules:
        assert m.stored().replace("\r\n", "\n").strip() == theirs[m.name].replace("\r\n", "\n").strip()


def test_write_project_keeps_the_template_references_and_writes_the_modules(template_project):
    olefile = pytest.importorskip("olefile")
    mods = [Module.from_export('Attribute VB_Name = "A"\nSub Hello()\nEnd Sub\n', "module"),
            Module.from_export('VERSION 1.0 CLASS\nBEGIN\n  MultiUse = -1  \'True\nEND\nAttribute VB_Name = "B"\n'
                               "Attribute VB_Exposed = False\nPublic X As Long\n", "class")]
    data = vbaproject.write_project(template_project, "Proj", mods)
    project = vbaproject.read_project(data)
    assert project.name == "Proj" and project.modules == tuple(mods)
    assert mods[1].attributes == ('Attribute VB_Name = "B"', vbaproject._CLASS_BASE, "Attribute VB_Exposed = False",
                                  *vbaproject._CLASS_TAIL)
    ole = olefile.OleFileIO(io.BytesIO(data))
    text = ole.openstream("PROJECT").read().decode("cp1252")
    assert text.startswith('ID="{318BEE36-5BE1-492A-826D-473DB19B0F30}"\r\nModule=A\r\nClass=B\r\nName="Proj"\r\n')
    assert "[Host Extender Info]" in text and 'CMG="' in text
    assert ole.openstream("VBA/_VBA_PROJECT").read() == b"\xcc\x61\xff\xff\x00\x03\x00"
    assert ole.openstream("PROJECTwm").read() == b"A\0A\0\0\0B\0B\0\0\0\0\0"
    refs = vbaproject._records(vbaproject.decompress(ole.openstream("VBA/dir").read()))
    template = vbaproject._records(vbaproject.decompress(
        olefile.OleFileIO(io.BytesIO(template_project)).openstream("VBA/dir").read()))
    assert [r for r in refs if r[0] in (0x0D, 0x0E, 0x2F, 0x30, 0x33)] == \
        [r for r in template if r[0] in (0x0D, 0x0E, 0x2F, 0x30, 0x33)]
    with pytest.raises(ValueError, match="distinct"):
        vbaproject.write_project(template_project, "Proj", [mods[0], mods[0]])


def test_a_module_file_without_its_name_is_refused():
    with pytest.raises(ValueError, match="VB_Name"):
        Module.from_export("Sub X()\nEnd Sub\n", "module")

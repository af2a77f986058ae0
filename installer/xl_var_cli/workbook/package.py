"""Open an .xlsx package defensively: zip and XML bombs, encryption and damage are refused up front.

Before anything (openpyxl, ``formulas``) touches a workbook, :func:`read_package` checks the
zip's central directory against size, count and compression-ratio limits (so a bomb is
refused before a byte is inflated), inflates the XML parts (the only ones xl-var reads) with
their CRC checked, and checks each with expat as :mod:`defusedxml` does (no DTDs, hence no
entity expansion; :func:`check_xml`). Every problem is a :class:`~xl_var_cli.errors.CliError`
naming the file and what is wrong with it.

The other parts (images, the VBA project of an .xlsm, embedded files, printer settings) are
never inflated: the limits do not apply to them, they cost no memory beyond the file's own
bytes, and :func:`repack` copies them into a rewritten package still compressed, byte for byte.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from xl_var_cli.errors import CliError

__all__ = [
    "LIMITS",
    "NS",
    "Limits",
    "Package",
    "check_xml",
    "package_from_bytes",
    "parse_xml",
    "read_package",
    "repack",
    "resolve_target",
]

NS = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
}
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_VBA_PROJECT = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and legacy .xls are OLE2 files
_XML_PARTS = (".xml", ".rels", ".vml")  # inflated and checked; every other part stays compressed
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, then (at offset 26) name and extra field lengths


@dataclass(frozen=True)
class Limits:
    """Bounds on what a workbook's XML parts may inflate to (bytes), checked before inflating."""

    max_members: int = 10_000
    max_member_bytes: int = 256 * 2**20
    max_total_bytes: int = 1024 * 2**20
    max_ratio: float = 200.0  # uncompressed/compressed, for members larger than ratio_floor
    ratio_floor: int = 2**20


LIMITS = Limits()


@dataclass(frozen=True)
class Package:
    """An xlsx package read into memory: ``raw`` is the file's bytes, ``parts`` its XML parts in zip order.

    Parts that are not XML stay compressed in ``raw`` (see :func:`repack`).
    """

    path: Path
    raw: bytes
    parts: dict[str, bytes]
    workbook_part: str

    def xml(self, name: str) -> Element:
        """Parse member ``name`` (already known to be safe XML)."""
        return parse_xml(self.parts[name], f"{self.path}: {name}")

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """The relationships of ``part``: id -> (type, absolute target part name)."""
        folder, name = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", name + ".rels")
        if rels_name not in self.parts:
            return {}
        out = {}
        for rel in self.xml(rels_name).findall("rel:Relationship", NS):
            if rel.get("TargetMode") == "External":
                continue
            out[rel.get("Id", "")] = (rel.get("Type", ""), resolve_target(folder, rel.get("Target", "")))
        return out

    def has_macros(self) -> bool:
        """Whether the workbook has a VBA project (an .xlsm's macros)."""
        return any(kind == _VBA_PROJECT for kind, _ in self.rels(self.workbook_part).values())

    def checked_zip(self) -> bytes:
        """The package as a zip of its checked XML parts, every other part empty: what a reader such
        as openpyxl is given, so that it inflates nothing that was not checked (an image it cannot
        read is dropped with a warning)."""
        buf = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(self.raw)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
            for info in src.infolist():
                if not info.is_dir():
                    out.writestr(info.filename, self.parts.get(info.filename, b""))
        return buf.getvalue()


def resolve_target(folder: str, target: str) -> str:
    """A relationship target as a part name (no leading slash)."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target))


def parse_xml(data: bytes, where: str) -> Element:
    """Parse one XML part with defusedxml: DTDs, entities and external references are refused."""
    try:
        root: Element = DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        return root
    except DefusedXmlException as exc:
        _refused(where, exc)
    except ParseError as exc:
        raise CliError(f"{where}: damaged XML ({exc})") from None


def check_xml(data: bytes, where: str) -> None:
    """Refuse what :func:`parse_xml` refuses, with the same messages, without building a tree.

    The same expat checks the same things (well-formed, namespaces bound, no DTD, entity
    declaration or external reference), with the handlers defusedxml sets and none other, so
    a large sheet costs a C-speed pass.
    """
    parser = expat.ParserCreate(None, "}")  # as ElementTree's XMLParser creates it
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_unparsed_entity
    parser.ExternalEntityRefHandler = _forbid_external
    try:
        parser.Parse(data, False)  # fed, then closed, as XMLParser.feed and close do
        parser.Parse(b"", True)
    except DefusedXmlException as exc:
        _refused(where, exc)
    except expat.ExpatError as exc:
        raise CliError(f"{where}: damaged XML ({exc})") from None


def _refused(where: str, exc: DefusedXmlException) -> NoReturn:
    raise CliError(f"{where}: refused: the XML declares a DTD or entities ({type(exc).__name__}), "
                   "which workbooks never need") from None


def _forbid_dtd(name: str, sysid: str | None, pubid: str | None, has_internal_subset: bool) -> NoReturn:
    raise DTDForbidden(name, sysid, pubid)


def _forbid_entity(name: str, is_parameter_entity: bool, value: str | None, base: str | None,
                   sysid: str | None, pubid: str | None, notation_name: str | None) -> NoReturn:
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation_name)


def _forbid_unparsed_entity(name: str, base: str | None, sysid: str | None, pubid: str | None,
                            notation_name: str | None) -> NoReturn:
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation_name)


def _forbid_external(context: str, base: str | None, sysid: str | None, pubid: str | None) -> NoReturn:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def _inflated(info: zipfile.ZipInfo) -> bool:
    """Whether xl-var reads this member (an XML part), so inflates it."""
    return not info.is_dir() and info.filename.lower().endswith(_XML_PARTS)


def _check_directory(path: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(infos) > limits.max_members:
        raise CliError(f"{path}: refused: {len(infos)} parts in the package (limit {limits.max_members})")
    if any(info.flag_bits & 0x1 for info in infos):
        raise CliError(f"{path}: is encrypted (zip password); save an unprotected copy as .xlsx")
    total = 0
    for info in filter(_inflated, infos):
        if info.file_size > limits.max_member_bytes:
            raise CliError(f"{path}: refused: part {info.filename} inflates to {info.file_size:,} bytes "
                           f"(limit {limits.max_member_bytes:,})")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
            raise CliError(f"{path}: refused: part {info.filename} compresses {ratio:,.0f}:1 "
                           f"(a zip bomb? limit {limits.max_ratio:.0f}:1)")
        total += info.file_size
    if total > limits.max_total_bytes:
        raise CliError(f"{path}: refused: the package inflates to {total:,} bytes (limit {limits.max_total_bytes:,})")


def _workbook_part(path: Path, parts: dict[str, bytes]) -> str:
    if "[Content_Types].xml" not in parts or "_rels/.rels" not in parts:
        raise CliError(f"{path}: is a zip file but not an Excel workbook (no [Content_Types].xml)")
    for rel in parse_xml(parts["_rels/.rels"], f"{path}: _rels/.rels").findall("rel:Relationship", NS):
        if rel.get("Type") == _OFFICE_DOCUMENT:
            name = resolve_target("", rel.get("Target", ""))
            if name.endswith(".bin"):
                raise CliError(f"{path}: is a binary .xlsb workbook; save it as .xlsx")
            if name in parts and name.endswith(".xml"):
                return name
            raise CliError(f"{path}: is damaged: its workbook part {name} is missing")
    raise CliError(f"{path}: is a zip file but not an Excel workbook (no workbook part)")


def read_package(path: str | Path, limits: Limits = LIMITS) -> Package:
    """Read and check an .xlsx/.xlsm file; raise :class:`CliError` if it is not a sound workbook."""
    p = Path(path)
    if not p.is_file():
        raise CliError(f"{p}: no such file")
    try:
        if p.stat().st_size > limits.max_total_bytes:
            raise CliError(f"{p}: refused: {p.stat().st_size:,} bytes is larger than a workbook may be "
                           f"(limit {limits.max_total_bytes:,})")
        raw = p.read_bytes()
    except OSError as exc:
        raise CliError(f"{p}: cannot read it ({exc.strerror})") from None
    return package_from_bytes(raw, p, limits)


def package_from_bytes(raw: bytes, p: Path, limits: Limits = LIMITS) -> Package:
    """Check the bytes of an .xlsx file named ``p`` (for messages) like :func:`read_package`."""
    if raw.startswith(_OLE_MAGIC):
        raise CliError(f"{p}: is password-protected (encrypted) or a legacy .xls file; "
                       "save an unprotected copy as .xlsx")
    if not raw.startswith(b"PK"):
        raise CliError(f"{p}: is not an Excel workbook (.xlsx is a zip package; this file is not)")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            _check_directory(p, infos, limits)
            parts = {info.filename: zf.read(info) for info in infos if _inflated(info)}
    except CliError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        raise CliError(f"{p}: is truncated or damaged ({exc})") from None
    except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required"
        raise CliError(f"{p}: is encrypted: save an unprotected copy as .xlsx ({exc})") from None
    workbook = _workbook_part(p, parts)
    for name, data in parts.items():
        check_xml(data, f"{p}: {name}")
    return Package(path=p, raw=raw, parts=parts, workbook_part=workbook)


def repack(pkg: Package, parts: Mapping[str, bytes]) -> bytes:
    """The zip file of ``pkg`` with ``parts`` as its XML parts.

    Members of ``pkg.parts`` are written from ``parts`` (keeping their zip entry's settings)
    or dropped when absent from it; new names in ``parts`` are added at the end, dated
    1980-01-01 so that the same input gives the same bytes. Every member that was never
    inflated is copied still compressed, byte for byte, with its CRC.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(pkg.raw)) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in parts:
                zout.writestr(info, parts[info.filename], compress_type=zipfile.ZIP_DEFLATED)
            elif info.filename not in pkg.parts and not info.is_dir():
                _copy_compressed(pkg, info, zout)
        for name, data in parts.items():
            if name not in zin.NameToInfo:
                zout.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                              compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _copy_compressed(pkg: Package, info: zipfile.ZipInfo, zout: zipfile.ZipFile) -> None:
    """Append member ``info`` of ``pkg`` to ``zout`` without inflating it.

    zipfile has no raw copy: the compressed bytes (found through the member's local header,
    as zipfile itself finds them) are written as a stored member, whose local header is then
    rewritten with the source's compression method, CRC and size. The zip64 choice is made
    once, as ``ZipFile.open`` makes it, so the rewritten header has the same length.
    """
    at = info.header_offset
    if len(pkg.raw) < at + _LOCAL_HEADER.size:
        raise CliError(f"{pkg.path}: is truncated or damaged (part {info.filename})")
    signature, name_len, extra_len = _LOCAL_HEADER.unpack_from(pkg.raw, at)
    start = at + _LOCAL_HEADER.size + name_len + extra_len
    data = memoryview(pkg.raw)[start:start + info.compress_size]
    if signature != b"PK\x03\x04" or len(data) != info.compress_size:
        raise CliError(f"{pkg.path}: is truncated or damaged (part {info.filename})")
    entry = zipfile.ZipInfo(info.filename, info.date_time)
    entry.external_attr, entry.comment, entry.create_system = info.external_attr, info.comment, info.create_system
    entry.compress_type, entry.file_size = zipfile.ZIP_STORED, info.file_size
    zip64 = max(info.file_size * 1.05, info.compress_size) > zipfile.ZIP64_LIMIT
    with zout.open(entry, "w", force_zip64=zip64) as dest:
        dest.write(data)
    entry.compress_type, entry.CRC, entry.file_size = info.compress_type, info.CRC, info.file_size
    entry.flag_bits |= info.flag_bits & 0x06  # compression options (deflate level, LZMA end marker)
    fp = zout.fp
    assert fp is not None  # open for writing
    end = fp.tell()
    fp.seek(entry.header_offset)
    fp.write(entry.FileHeader(zip64))
    fp.seek(end)

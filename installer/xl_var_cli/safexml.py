"""Open an .xlsx package defensively: zip and XML bombs, encryption and damage are refused up front.

Before anything (openpyxl, ``formulas``) touches a workbook, :func:`read_package` checks the
zip's central directory against size, count and compression-ratio limits (so a bomb is
refused before a byte is inflated), reads every member with its CRC checked, and parses
every XML part with :mod:`defusedxml` (no DTDs, hence no entity expansion). Every problem
is a :class:`~xl_var_cli.errors.CliError` naming the file and what is wrong with it.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from xl_var_cli.errors import CliError

__all__ = [
    "LIMITS",
    "NS",
    "Limits",
    "Package",
    "package_from_bytes",
    "parse_xml",
    "read_package",
    "resolve_target",
]

NS = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
}
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and legacy .xls are OLE2 files


@dataclass(frozen=True)
class Limits:
    """Bounds on what a workbook package may inflate to (bytes), checked before inflating."""

    max_members: int = 10_000
    max_member_bytes: int = 256 * 2**20
    max_total_bytes: int = 1024 * 2**20
    max_ratio: float = 200.0  # uncompressed/compressed, for members larger than ratio_floor
    ratio_floor: int = 2**20


LIMITS = Limits()


@dataclass(frozen=True)
class Package:
    """An xlsx package read into memory: ``raw`` is the file's bytes, ``parts`` its members in zip order."""

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
        raise CliError(f"{where}: refused: the XML declares a DTD or entities ({type(exc).__name__}), "
                       "which workbooks never need") from None
    except ParseError as exc:
        raise CliError(f"{where}: damaged XML ({exc})") from None


def _check_directory(path: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(infos) > limits.max_members:
        raise CliError(f"{path}: refused: {len(infos)} parts in the package (limit {limits.max_members})")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise CliError(f"{path}: is encrypted (zip password); save an unprotected copy as .xlsx")
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
            parts = {}
            for info in infos:
                if info.is_dir():
                    continue
                parts[info.filename] = zf.read(info)
    except CliError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        raise CliError(f"{p}: is truncated or damaged ({exc})") from None
    except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required"
        raise CliError(f"{p}: is encrypted: save an unprotected copy as .xlsx ({exc})") from None
    workbook = _workbook_part(p, parts)
    for name, data in parts.items():
        if name.endswith((".xml", ".rels", ".vml")):
            parse_xml(data, f"{p}: {name}")
    return Package(path=p, raw=raw, parts=parts, workbook_part=workbook)

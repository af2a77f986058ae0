"""The VBA project of an Office file (``xl/vbaProject.bin``) per [MS-OVBA], written and read without Office.

A VBA project is a compound file (:mod:`xl_var_cli.cfb`) holding:

* ``PROJECT``: text lines ``ID=``, one ``Module=``/``Class=``/``Document=`` line per module, ``Name=``,
  the protection lines ``CMG``/``DPB``/``GC`` and host sections;
* ``PROJECTwm``: each module name in the code page and in UTF-16;
* ``VBA/dir`` (compressed): records for the project (code page, name, version...), its references and
  each module (name, stream name, source offset, type);
* ``VBA/_VBA_PROJECT``: the version-independent form, 7 bytes with version ``0xFFFF``, which tells Office
  that no compiled code (``PerformanceCache``) follows, so it compiles the modules from source when it
  opens the file;
* ``VBA/<module>`` per module: the compressed source text, at offset 0 (no compiled code before it).

``write_project`` keeps the project information and references of a template project written by
Excel (here xlwings' add-in template) and writes the modules given. Module source is stored as the
VBA editor keeps it: the ``Attribute`` lines, then the code; an exported ``.cls`` file's ``VERSION``
/``BEGIN``...``END`` header is what the editor drops on import and ``VB_Base`` what it adds
(:meth:`Module.from_export`).

Compression is MS-OVBA 2.4.1: 4096-byte chunks of flag bytes, literals and copy tokens whose
offset/length split depends on the position in the chunk.

Reference: [MS-OVBA] Office VBA File Format Structure, sections 2.2-2.4.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from xl_var_cli import cfb

__all__ = ["Module", "Project", "compress", "decompress", "read_project", "write_project"]

Kind = Literal["module", "class", "document"]
_CHUNK = 4096
_VBA_PROJECT = b"\xcc\x61\xff\xff\x00\x03\x00"  # 2.3.4.1: Reserved1, Version 0xFFFF, Reserved2, Reserved3
_CLASS_BASE = 'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"'
_CLASS_TAIL = ("Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False")
_MODULES, _COOKIE, _TERMINATOR, _PROJECTNAME, _CODEPAGE, _VERSION = 0x0F, 0x13, 0x10, 0x04, 0x03, 0x09
_M_NAME, _M_STREAM, _M_OFFSET, _M_PROCEDURAL, _M_OTHER, _M_END = 0x19, 0x1A, 0x31, 0x21, 0x22, 0x2B


# ----------------------------------------------------------------------------- compression (2.4.1)
def _split(position: int) -> int:
    """Bits of a copy token's offset at ``position`` in the chunk: ``max(ceil(log2(position)), 4)``."""
    return max((position - 1).bit_length(), 4)


def _compress_chunk(chunk: bytes) -> bytes:
    out, pos, n = bytearray(), 0, len(chunk)
    seen: dict[bytes, list[int]] = {}

    def remember(upto: int) -> None:
        nonlocal pos
        while pos < upto:
            seen.setdefault(chunk[pos:pos + 3], []).append(pos)
            pos += 1

    while pos < n:
        flag_at, flags = len(out), 0
        out.append(0)
        for bit in range(8):
            if pos >= n:
                break
            bits = _split(pos)
            limit = min((0xFFFF >> bits) + 3, n - pos)
            best, at = 0, 0
            for cand in reversed(seen.get(chunk[pos:pos + 3], [])[-256:]):
                length = 0
                while length < limit and chunk[cand + length] == chunk[pos + length]:
                    length += 1
                if length > best:
                    best, at = length, cand
                    if length == limit:
                        break
            if best >= 3:
                out += struct.pack("<H", ((pos - at - 1) << (16 - bits)) | (best - 3))
                flags |= 1 << bit
                remember(pos + best)
            else:
                out.append(chunk[pos])
                remember(pos + 1)
        out[flag_at] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """MS-OVBA compressed container of ``data`` (2.4.1.3.6)."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), _CHUNK):
        chunk = data[start:start + _CHUNK]
        body = _compress_chunk(chunk)
        if len(body) <= _CHUNK:
            out += struct.pack("<H", 0xB000 | (len(body) - 1)) + body  # flag 1, signature 0b011, size - 3
        elif len(chunk) == _CHUNK:
            out += struct.pack("<H", 0x3FFF) + chunk  # a raw chunk: 4096 bytes as they are
        else:
            raise ValueError("the last chunk does not compress; MS-OVBA cannot store it")
    return bytes(out)


def decompress(data: bytes) -> bytes:
    """The bytes of an MS-OVBA compressed container (2.4.1.3.1); ValueError if it is malformed."""
    if not data or data[0] != 1:
        raise ValueError("not an MS-OVBA compressed container (first byte is not 0x01)")
    out, i = bytearray(), 1
    while i < len(data):
        if i + 2 > len(data):
            raise ValueError("a compressed chunk header is cut short")
        header = int.from_bytes(data[i:i + 2], "little")
        if header >> 12 & 7 != 3:
            raise ValueError(f"bad compressed chunk signature at byte {i}")
        end, start = min(i + (header & 0xFFF) + 3, len(data)), len(out)
        i += 2
        if not header & 0x8000:
            out += data[i:i + _CHUNK]
            i += _CHUNK
            continue
        while i < end:
            flags = data[i]
            i += 1
            for bit in range(8):
                if i >= end:
                    break
                if flags >> bit & 1:
                    token = int.from_bytes(data[i:i + 2], "little")
                    bits = _split(len(out) - start)
                    offset = (token >> (16 - bits)) + 1
                    if offset > len(out) - start:
                        raise ValueError(f"a copy token at byte {i} points before its chunk")
                    for _ in range((token & (0xFFFF >> bits)) + 3):
                        out.append(out[-offset])
                    i += 2
                else:
                    out.append(data[i])
                    i += 1
    return bytes(out)


# ----------------------------------------------------------------------------- modules
@dataclass(frozen=True)
class Module:
    """One VBA module: its name, kind, hidden ``Attribute`` lines and code (``\\n`` line ends)."""

    name: str
    kind: Kind
    attributes: tuple[str, ...]
    code: str

    @classmethod
    def from_stored(cls, name: str, kind: Kind, text: str) -> Module:
        """A module from the text stored in a VBA project (``Attribute`` lines first)."""
        lines = text.replace("\r\n", "\n").split("\n")
        n = 0
        while n < len(lines) and lines[n].startswith("Attribute "):
            n += 1
        return cls(name, kind, tuple(lines[:n]), "\n".join(lines[n:]).rstrip("\n") + "\n")

    @classmethod
    def from_export(cls, text: str, kind: Kind) -> Module:
        """A module from an exported ``.bas``/``.cls`` file, as the VBA editor's Import stores it."""
        lines = text.replace("\r\n", "\n").split("\n")
        if kind == "class" and lines and lines[0].startswith("VERSION "):
            end = lines.index("END") if "END" in lines else 0
            lines = lines[end + 1:]
        module = cls.from_stored("", kind, "\n".join(lines))
        names = [a for a in module.attributes if a.startswith("Attribute VB_Name = ")]
        if len(names) != 1:
            raise ValueError("a module file needs exactly one line 'Attribute VB_Name = \"...\"' at its top")
        name = names[0].split("=", 1)[1].strip().strip('"')
        attributes = list(module.attributes)
        if kind == "class":
            attributes.insert(attributes.index(names[0]) + 1, _CLASS_BASE)
            attributes += [t for t in _CLASS_TAIL if t.split("=")[0] not in {a.split("=")[0] for a in attributes}]
        return cls(name, kind, tuple(attributes), module.code)

    def stored(self) -> str:
        """The text the project stores, CRLF line ends."""
        return "\r\n".join([*self.attributes, *self.code.rstrip("\n").split("\n")]) + "\r\n"


@dataclass(frozen=True)
class Project:
    """A VBA project as read back: its name, code page and modules in the ``dir`` stream's order."""

    name: str
    codepage: int
    modules: tuple[Module, ...]

    def module(self, name: str) -> Module | None:
        return next((m for m in self.modules if m.name.lower() == name.lower()), None)


def _records(data: bytes) -> list[tuple[int, bytes]]:
    """The ``dir`` stream as (id, data) records; PROJECTVERSION's size field says 4 but 6 bytes follow."""
    out, i = [], 0
    while i + 6 <= len(data):
        rid, size = struct.unpack_from("<HI", data, i)
        size = 6 if rid == _VERSION else size
        out.append((rid, data[i + 6:i + 6 + size]))
        i += 6 + size
    return out


def _record(rid: int, data: bytes) -> bytes:
    return struct.pack("<HI", rid, len(data) if rid != _VERSION else 4) + data


def _codec(codepage: int) -> str:
    return f"cp{codepage}" if codepage != 65001 else "utf-8"


def _module_records(module: Module, codec: str) -> bytes:
    name, wide = module.name.encode(codec), module.name.encode("utf-16-le")
    return b"".join([
        _record(_M_NAME, name), _record(0x47, wide), _record(_M_STREAM, name), _record(0x32, wide),
        _record(0x1C, b""), _record(0x48, b""), _record(_M_OFFSET, struct.pack("<I", 0)),
        _record(0x1E, struct.pack("<I", 0)), _record(0x2C, struct.pack("<H", 0xFFFF)),
        _record(_M_PROCEDURAL if module.kind == "module" else _M_OTHER, b""), _record(_M_END, b""),
    ])


def _project_text(template: str, name: str, modules: Sequence[Module]) -> str:
    head, _, sections = template.replace("\r\n", "\n").partition("\n[")
    keep = [line for line in head.split("\n") if line and line.split("=")[0] not in
            {"ID", "Document", "Module", "Class", "BaseClass", "Package", "Name"}]
    ids = [line for line in head.split("\n") if line.startswith("ID=")]
    lines = ids + [{"module": f"Module={m.name}", "class": f"Class={m.name}",
                    "document": f"Document={m.name}/&H00000000"}[m.kind] for m in modules]
    lines += [f'Name="{name}"', *keep, ""]
    hosts = re.split(r"\n(?=\[)", "[" + sections) if sections else []
    hosts = [h.strip("\n") for h in hosts if not h.startswith("[Workspace]")]
    workspace = ["[Workspace]", *(f"{m.name}=0, 0, 0, 0, C" for m in modules)]
    return "\r\n".join([*lines, *(h.replace("\n", "\r\n") + "\r\n" for h in hosts), *workspace, ""])


def write_project(template: bytes, name: str, modules: Iterable[Module]) -> bytes:
    """A ``vbaProject.bin`` named ``name`` with ``modules``, the project information and references of
    ``template`` (a ``vbaProject.bin`` saved by Excel)."""
    mods = list(modules)
    if len({m.name.lower() for m in mods}) != len(mods) or not re.fullmatch(r"[A-Za-z]\w{0,30}", name):
        raise ValueError("module names must be distinct and the project name a VBA identifier")
    streams = cfb.read(template, path="the template's VBA project")
    records = _records(decompress(streams["VBA/dir"]))
    info = records[:next(i for i, (rid, _) in enumerate(records) if rid == _MODULES)]
    codepage = struct.unpack("<H", dict(info)[_CODEPAGE])[0]
    codec = _codec(codepage)
    head = b"".join(_record(rid, name.encode(codec) if rid == _PROJECTNAME else data) for rid, data in info)
    dir_stream = b"".join([head, _record(_MODULES, struct.pack("<H", len(mods))),
                           _record(_COOKIE, struct.pack("<H", 0xFFFF)),
                           *(_module_records(m, codec) for m in mods), struct.pack("<HI", _TERMINATOR, 0)])
    wm = b"".join(m.name.encode(codec) + b"\0" + m.name.encode("utf-16-le") + b"\0\0" for m in mods) + b"\0\0"
    out = {
        "PROJECT": _project_text(streams["PROJECT"].decode(codec), name, mods).encode(codec),
        "PROJECTwm": wm,
        "VBA/_VBA_PROJECT": _VBA_PROJECT,
        "VBA/dir": compress(dir_stream),
    }
    for m in mods:
        out[f"VBA/{m.name}"] = compress(m.stored().encode(codec))
    return cfb.write(out, path="the VBA project")


def read_project(data: bytes, *, path: str = "vbaProject.bin") -> Project:
    """The modules of a ``vbaProject.bin`` (any Office-written one) with their source text."""
    try:
        streams = cfb.read(data, path=path)
        records = _records(decompress(streams["VBA/dir"]))
    except KeyError:
        raise ValueError(f"{path}: no VBA/dir stream, so not a VBA project") from None
    fields = dict(r for r in records if r[0] in (_CODEPAGE, _PROJECTNAME))
    codepage = struct.unpack("<H", fields.get(_CODEPAGE, b"\xe4\x04"))[0]
    codec = _codec(codepage)
    kinds: dict[str, Kind] = {}
    named: dict[str, Kind] = {"Module": "module", "Document": "document", "Class": "class", "BaseClass": "class"}
    for line in streams.get("PROJECT", b"").decode(codec, "replace").splitlines():
        key, _, listed = line.partition("=")
        if key in named:
            kinds[listed.split("/")[0].lower()] = named[key]
    modules: list[Module] = []
    current: dict[int, bytes] = {}
    for rid, value in records:
        current[rid] = value
        if rid == _M_NAME:
            current = {rid: value}
        elif rid == _M_END:
            mod_name = current[_M_NAME].decode(codec)
            stream = streams.get(f"VBA/{current.get(_M_STREAM, current[_M_NAME]).decode(codec)}")
            if stream is None:
                raise ValueError(f"{path}: module {mod_name} has no stream")
            offset = struct.unpack("<I", current.get(_M_OFFSET, b"\0\0\0\0"))[0]
            text = decompress(stream[offset:]).decode(codec)
            kind: Kind = "module" if _M_PROCEDURAL in current else kinds.get(mod_name.lower(), "class")
            modules.append(Module.from_stored(mod_name, kind, text))
    return Project(fields.get(_PROJECTNAME, b"").decode(codec), codepage, tuple(modules))

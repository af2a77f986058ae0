"""The Compound File Binary format [MS-CFB] (an "OLE file"): write a small one, read any one back.

A compound file is a little FAT file system in one file: 512-byte sectors (version 3) chained by a
file allocation table (FAT); streams under 4096 bytes live in 64-byte sectors of the "mini stream",
chained by the mini FAT; a directory of 128-byte entries names the storages (folders) and streams,
each storage's children forming a red-black tree ordered by name length, then upper-cased name.
``write`` lays the file out as: large streams, the mini stream, the mini FAT, the directory, the
FAT; entries carry no timestamps, so the same streams give the same bytes. ``read`` follows the
chains of any version 3 or 4 file (the DIFAT included), as Excel writes ``vbaProject.bin``.

Reference: [MS-CFB] Compound File Binary File Format, sections 2.2-2.6.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["CompoundFileError", "read", "write"]

SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_SECTOR, _MINI, _CUTOFF = 512, 64, 4096
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_HEADER = struct.Struct("<8s16sHHHHH6sIIIIIIIII")  # 76 bytes, then 109 DIFAT entries
_ENTRY = struct.Struct("<64sHBBIII16sIQQIQ")  # 128 bytes
_STORAGE, _STREAM, _ROOT = 1, 2, 5
_RED, _BLACK = 0, 1


class CompoundFileError(ValueError):
    """The bytes are not a well-formed compound file (the message says what is wrong)."""


@dataclass
class _Node:
    name: str
    data: bytes | None = None  # None: a storage
    children: dict[str, _Node] = field(default_factory=dict)
    sid: int = 0
    left: int = _NOSTREAM
    right: int = _NOSTREAM
    child: int = _NOSTREAM
    color: int = _BLACK
    start: int = _END


def _order(name: str) -> tuple[int, str]:
    return len(name), name.upper()


def _tree(path: str, streams: Mapping[str, bytes]) -> _Node:
    root = _Node("Root Entry")
    for key, data in streams.items():
        parts = key.split("/")
        node = root
        for part in parts[:-1]:
            node = node.children.setdefault(part, _Node(part))
            if node.data is not None:
                raise CompoundFileError(f"{path}: {key!r} puts a stream inside the stream {part!r}")
        if not 0 < len(parts[-1]) <= 31 or parts[-1] in node.children:
            raise CompoundFileError(f"{path}: {key!r} is not a new name of 1 to 31 characters")
        node.children[parts[-1]] = _Node(parts[-1], bytes(data))
    return root


def _balance(nodes: list[_Node], depth: int, deepest: int) -> int:
    """Link sorted siblings as a balanced tree; the deepest level red, the rest black (valid red-black)."""
    if not nodes:
        return _NOSTREAM
    mid = len(nodes) // 2
    node = nodes[mid]
    node.color = _RED if depth == deepest and depth > 0 else _BLACK
    node.left = _balance(nodes[:mid], depth + 1, deepest)
    node.right = _balance(nodes[mid + 1:], depth + 1, deepest)
    return node.sid


def _chain_into(fat: list[int], first: int, count: int) -> int:
    for i in range(first, first + count - 1):
        fat[i] = i + 1
    if count:
        fat[first + count - 1] = _END
    return first if count else _END


def _sectors(size: int, unit: int) -> int:
    return -(-size // unit)


def write(streams: Mapping[str, bytes], *, path: str = "compound file") -> bytes:
    """A version 3 compound file holding ``streams`` (``"VBA/dir"``: stream ``dir`` in storage ``VBA``)."""
    root = _tree(path, streams)
    entries: list[_Node] = []
    queue = [root]
    while queue:  # directory ids in breadth-first order, root first
        node = queue.pop(0)
        node.sid = len(entries)
        entries.append(node)
        queue.extend(sorted(node.children.values(), key=lambda n: _order(n.name)))
    for node in entries:
        kids = sorted(node.children.values(), key=lambda n: _order(n.name))
        node.child = _balance(kids, 0, max(len(kids).bit_length() - 1, 0))
    big = [n for n in entries if n.data is not None and len(n.data) >= _CUTOFF]
    small = [n for n in entries if n.data is not None and 0 < len(n.data) < _CUTOFF]
    mini_stream, minifat = bytearray(), []
    for node in small:
        data = node.data or b""
        count = _sectors(len(data), _MINI)
        minifat.extend([0] * count)
        node.start = _chain_into(minifat, len(minifat) - count, count)
        mini_stream += data.ljust(count * _MINI, b"\0")
    counts = [_sectors(len(n.data or b""), _SECTOR) for n in big]
    n_mini = _sectors(len(mini_stream), _SECTOR)
    n_minifat = _sectors(len(minifat) * 4, _SECTOR)
    n_dir = _sectors(len(entries) * _ENTRY.size, _SECTOR)
    used = sum(counts) + n_mini + n_minifat + n_dir
    n_fat = 1
    while n_fat * (_SECTOR // 4) < used + n_fat:
        n_fat += 1
    if n_fat > 109:
        raise CompoundFileError(f"{path}: {used} sectors is more than this writer handles (no DIFAT sectors)")
    fat = [_FREE] * (n_fat * (_SECTOR // 4))
    at = 0
    for node, count in zip(big, counts, strict=True):
        node.start = _chain_into(fat, at, count)
        at += count
    root.start = _chain_into(fat, at, n_mini)
    at += n_mini
    first_minifat = _chain_into(fat, at, n_minifat)
    at += n_minifat
    first_dir = _chain_into(fat, at, n_dir)
    at += n_dir
    fat_sectors = list(range(at, at + n_fat))
    for s in fat_sectors:
        fat[s] = _FATSECT
    body = bytearray()
    for node in big:
        body += (node.data or b"").ljust(_sectors(len(node.data or b""), _SECTOR) * _SECTOR, b"\0")
    body += bytes(mini_stream).ljust(n_mini * _SECTOR, b"\0")
    body += struct.pack(f"<{len(minifat)}I", *minifat).ljust(n_minifat * _SECTOR, b"\xff")
    directory = b"".join(_entry(n, len(mini_stream) if n is root else len(n.data or b"")) for n in entries)
    body += directory + _empty_entry() * (n_dir * _SECTOR // _ENTRY.size - len(entries))
    body += struct.pack(f"<{len(fat)}I", *fat)
    difat = fat_sectors + [_FREE] * (109 - n_fat)
    header = _HEADER.pack(SIGNATURE, bytes(16), 0x3E, 3, 0xFFFE, 9, 6, bytes(6), 0, n_fat, first_dir, 0, _CUTOFF,
                          first_minifat, n_minifat, _END, 0)
    return (header + struct.pack("<109I", *difat)).ljust(_SECTOR, b"\0") + bytes(body)


def _entry(node: _Node, size: int) -> bytes:
    name = node.name.encode("utf-16-le")
    kind = _ROOT if node.sid == 0 else _STREAM if node.data is not None else _STORAGE
    start = node.start if kind != _STORAGE else 0
    return _ENTRY.pack(name.ljust(64, b"\0"), len(name) + 2, kind, node.color, node.left, node.right,
                       node.child, bytes(16), 0, 0, 0, start, size if kind != _STORAGE else 0)


def _empty_entry() -> bytes:
    return _ENTRY.pack(bytes(64), 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM, bytes(16), 0, 0, 0, 0, 0)


def read(data: bytes, *, path: str = "compound file") -> dict[str, bytes]:
    """Every stream of a compound file by its path (``"VBA/dir"``)."""
    if len(data) < 512 or data[:8] != SIGNATURE:
        raise CompoundFileError(f"{path}: not a compound file (no D0CF11E0 signature)")
    head = _HEADER.unpack_from(data)
    shift, mini_shift, n_fat, first_dir, cutoff, first_minifat, first_difat = (
        head[5], head[6], head[9], head[10], head[12], head[13], head[15])
    size = 1 << shift
    if size not in (512, 4096):
        raise CompoundFileError(f"{path}: sector size {size} is neither 512 nor 4096")

    def sector(i: int) -> bytes:
        if i >= _FATSECT or (i + 1) * size >= len(data):
            raise CompoundFileError(f"{path}: sector {i} lies outside the file")
        return data[(i + 1) * size:(i + 2) * size]

    difat = list(struct.unpack_from("<109I", data, 76))
    seen: set[int] = set()
    while first_difat not in (_END, _FREE) and first_difat not in seen:
        seen.add(first_difat)
        more = struct.unpack(f"<{size // 4}I", sector(first_difat))
        difat.extend(more[:-1])
        first_difat = more[-1]
    fat: list[int] = []
    for s in difat[:n_fat]:
        fat.extend(struct.unpack(f"<{size // 4}I", sector(s)))

    def chain(start: int, table: list[int]) -> list[int]:
        out: list[int] = []
        while start not in (_END, _FREE):
            if start >= len(table) or len(out) > len(table):
                raise CompoundFileError(f"{path}: a broken sector chain")
            out.append(start)
            start = table[start]
        return out

    def stream(start: int) -> bytes:
        return b"".join(sector(s) for s in chain(start, fat))

    raw_dir = stream(first_dir)
    entries = [_ENTRY.unpack_from(raw_dir, i) for i in range(0, len(raw_dir) - 127, 128)]
    if not entries or entries[0][2] != _ROOT:
        raise CompoundFileError(f"{path}: the directory has no root entry")
    minifat = list(struct.unpack(f"<{len(m) // 4}I", m)) if (m := stream(first_minifat)) else []
    mini = stream(entries[0][11])
    found: dict[str, bytes] = {}

    def visit(sid: int, prefix: str, depth: int) -> None:
        if sid == _NOSTREAM or depth > len(entries):
            return
        if sid >= len(entries):
            raise CompoundFileError(f"{path}: directory entry {sid} does not exist")
        name_bytes, name_len, kind, _, left, right, child, *_, start, length = entries[sid]
        name = name_bytes[:max(name_len - 2, 0)].decode("utf-16-le")
        visit(left, prefix, depth + 1)
        visit(right, prefix, depth + 1)
        if kind == _STORAGE:
            visit(child, f"{prefix}{name}/", depth + 1)
        elif kind == _STREAM:
            length &= 0xFFFFFFFF if size == 512 else (1 << 64) - 1
            if length < cutoff:
                blob = b"".join(mini[s << mini_shift:(s + 1) << mini_shift] for s in chain(start, minifat))
            else:
                blob = stream(start)
            if len(blob) < length:
                raise CompoundFileError(f"{path}: stream {prefix}{name} is shorter than its entry says")
            found[prefix + name] = blob[:length]

    visit(entries[0][6], "", 0)
    return found

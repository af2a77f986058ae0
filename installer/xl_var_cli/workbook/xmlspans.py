"""Where elements sit in an XML part, in bytes, so a part can be edited without re-serialising it.

Re-serialising an Office XML part (ElementTree) renames namespace prefixes and drops
declarations that ``mc:Ignorable`` still names, which Excel reports as a damaged file.
:func:`scan` instead records the byte span of the elements the caller asks for, and
:func:`splice` replaces byte ranges; every other byte of the part is kept as it was.
Parts are checked with :mod:`defusedxml` first (:mod:`xl_var_cli.workbook.package`), so they hold
no DTD or entity declarations by the time they are scanned here.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

__all__ = ["Span", "attrs_xml", "insert_after", "scan", "splice", "text_xml"]


@dataclass
class Span:
    """One element: local name, attributes in document order, byte offsets, and text if recorded.

    ``start`` is the ``<`` of its start tag, ``open_end`` just after that tag's ``>``,
    ``end`` just after its end tag (``== open_end`` for an empty element ``<x/>``).
    """

    name: str
    qname: str
    attrs: dict[str, str]
    start: int
    open_end: int
    empty: bool
    path: tuple[str, ...]
    end: int = -1
    text: str = ""
    children: list[Span] = field(default_factory=list)


_START_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")


def _tag_end(data: bytes, pos: int) -> tuple[int, bool]:
    """Offset just after the start tag beginning at ``pos``, and whether it is ``<x/>``
    (attribute values may hold ``>``: the pattern skips quoted text)."""
    m = _START_TAG.match(data, pos)
    if m is None:
        raise ValueError("unterminated start tag")
    return m.end(), bool(m.group(1))


def scan(data: bytes, keep: Callable[[tuple[str, ...]], bool],
         text_of: Callable[[tuple[str, ...]], bool] = lambda path: False) -> list[Span]:
    """Spans of the elements whose path of local names (root first) ``keep`` accepts.

    Kept elements nest: a kept element's kept descendants are in its ``children``; the
    top-level kept elements are returned in document order. ``text_of`` selects the
    elements whose character data is recorded.
    """
    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True
    path: list[str] = []
    open_spans: list[Span | None] = []
    top: list[Span] = []

    def start(qname: str, attrs: dict[str, str]) -> None:
        path.append(qname.rpartition(":")[2])
        here = tuple(path)
        if not keep(here):
            open_spans.append(None)
            return
        pos = parser.CurrentByteIndex
        open_end, empty = _tag_end(data, pos)
        span = Span(path[-1], qname, attrs, pos, open_end, empty, here)
        parent = next((s for s in reversed(open_spans) if s is not None), None)
        (parent.children if parent else top).append(span)
        open_spans.append(span)

    def end(qname: str) -> None:
        span = open_spans.pop()
        path.pop()
        if span is not None:
            span.end = span.open_end if span.empty else data.index(b">", parser.CurrentByteIndex) + 1

    def chars(text: str) -> None:
        span = open_spans[-1] if open_spans else None
        if span is not None and text_of(span.path):
            span.text += text

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.Parse(data, True)
    return top


def splice(data: bytes, edits: Iterable[tuple[int, int, bytes]]) -> bytes:
    """Replace each byte range ``[start, end)`` with new bytes; ranges must not overlap.

    Insertions (``start == end``) at the same offset keep the order they were given in.
    """
    out, pos = [], 0
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < pos:
            raise ValueError(f"overlapping edits at byte {start}")
        out += [data[pos:start], new]
        pos = end
    out.append(data[pos:])
    return b"".join(out)


def insert_after(data: bytes, parent: Span, after: tuple[str, ...], new: bytes) -> bytes | None:
    """``data`` with ``new`` inserted right after the last child of ``parent`` named in ``after``
    (the schema's order: the elements a new one must follow); None when there is none."""
    before = [s for s in parent.children if s.name in after]
    return splice(data, [(before[-1].end, before[-1].end, new)]) if before else None


def attrs_xml(attrs: dict[str, str]) -> str:
    """Attributes as they go inside a start tag (leading space included)."""
    return "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())


def text_xml(text: str) -> str:
    """Element text, escaped; characters XML 1.0 cannot hold become Excel's ``_xHHHH_`` escapes."""
    safe = "".join(ch if ch in "\t\n\r" or (" " <= ch <= "\ud7ff") or ("\ue000" <= ch <= "\ufffd")
                   or ord(ch) > 0xFFFF else f"_x{ord(ch):04X}_" for ch in text)
    return escape(safe)

"""Where elements sit in an XML part, in bytes, so a part can be edited without re-serialising it.

Re-serialising an Office XML part (ElementTree) renames namespace prefixes and drops
declarations that ``mc:Ignorable`` still names, which Excel reports as a damaged file.
:func:`scan` instead records the byte span of the elements the caller asks for, and
:func:`splice` replaces byte ranges; every other byte of the part is kept as it was.
Parts are checked first (:func:`xl_var_cli.workbook.package.check_xml`), so they are
well-formed and hold no DTD or entity declarations by the time they are scanned here.

Readers that find elements with regular expressions instead (:mod:`xl_var_cli.workbook.sheet_scan`)
build them from :data:`ATTRIBUTES`, and decode what they match with :func:`parse_attrs` and
:func:`char_data`, which give what expat gives.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from xml.sax.saxutils import quoteattr

__all__ = ["ATTRIBUTES", "Span", "attrs_xml", "char_data", "insert_after", "parse_attrs", "scan", "splice",
           "text_xml"]


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


ATTRIBUTES = rb"""(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*"""
"""A pattern for the attributes of a start tag (quoted values may hold ``>``), for building
regular expressions that read well-formed XML without a parser."""
_START_TAG = re.compile(rb"<[^\s/>]+" + ATTRIBUTES + rb"\s*(/?)>")
_ATTRIBUTE = re.compile(r"""\s+([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_PLAIN_ATTRS = re.compile(rb'(?:\s+[^\s=/>]+="[^"&\t\n\r]*")*')  # name="value": nothing to decode
_PLAIN_ATTR = re.compile(r'\s+([^\s=/>]+)="([^"]*)"')
_NORMALISED_ATTRS = re.compile(rb"&#|[\t\n\r]")  # what only expat decodes or normalises exactly in attributes
_NORMALISED_TEXT = re.compile(rb"&#|\r")  # and in character data (\r\n and \r become \n)
_NOT_XML_CHAR = re.compile("[^\t\n\r -\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


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
    for start, end, new in sorted(edits, key=itemgetter(0, 1)):
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


def parse_attrs(raw: bytes) -> dict[str, str]:
    """The attributes in ``raw`` (the part of a UTF-8 start tag matched by :data:`ATTRIBUTES`), exactly
    as expat reports them: references decoded and whitespace normalised."""
    if not raw:
        return {}
    if _PLAIN_ATTRS.fullmatch(raw):
        return dict(_PLAIN_ATTR.findall(raw.decode()))
    if _NORMALISED_ATTRS.search(raw) is None:
        return {k: _unescape(dq or sq) for k, dq, sq in _ATTRIBUTE.findall(raw.decode())}
    return _expat_element(b"<a" + raw + b"/>")[0]


def char_data(raw: bytes) -> str:
    """The text of ``raw`` (UTF-8 character data without markup) as expat reports it."""
    if b"&" not in raw and b"\r" not in raw:
        return raw.decode()
    if _NORMALISED_TEXT.search(raw) is None:
        return _unescape(raw.decode())
    return _expat_element(b"<a>" + raw + b"</a>")[1]


def _unescape(text: str) -> str:
    """Text with its references to the predefined entities replaced (in a well-formed part without
    a DTD, every ``&`` starts one, or a character reference)."""
    if "&" not in text:
        return text
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def _expat_element(element: bytes) -> tuple[dict[str, str], str]:
    """The attributes and text of a one-element document (for what only a parser decodes exactly)."""
    parser = xml.parsers.expat.ParserCreate()
    found: list[dict[str, str]] = []
    text: list[str] = []
    parser.StartElementHandler = lambda name, attrs: found.append(attrs)
    parser.CharacterDataHandler = text.append
    parser.Parse(element, True)
    return found[0], "".join(text)


def attrs_xml(attrs: dict[str, str]) -> str:
    """Attributes as they go inside a start tag (leading space included)."""
    return "".join([f' {k}="{v}"' if v.isalnum() else f" {k}={quoteattr(v)}" for k, v in attrs.items()])


def text_xml(text: str) -> str:
    """Element text, escaped; characters XML 1.0 cannot hold become Excel's ``_xHHHH_`` escapes."""
    safe = _NOT_XML_CHAR.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return safe.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")  # xml.sax.saxutils.escape

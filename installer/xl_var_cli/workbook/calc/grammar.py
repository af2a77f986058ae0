"""A formula's text as a syntax tree, with references relative to the cell that holds it.

:func:`parse` reads Excel's formula grammar from openpyxl's tokenizer (the one the rest of
the workbook package uses, :func:`xl_var_cli.workbook.formula_text.tokens`) with Excel's
operator precedence (Microsoft, "Calculation operators and precedence in Excel"): the
reference operators ``:`` and intersection (a space) first, then negation, ``%``, ``^``,
``* /``, ``+ -``, ``&`` and comparisons. Negation binds tighter than ``^`` (``=-2^2`` is 4).

:func:`shape_key` gives the text of a formula with its A1 cell references taken out, and the
cells they name; formulas that differ only in the cells they read (filled across a sheet, or
reading other rows of a table) share one key, so each shape is parsed and compiled once
(:mod:`~xl_var_cli.workbook.calc.compiler`).

Nodes are tuples whose first item names them:

``("num", x)``, ``("str", s)``, ``("bool", b)``, ``("err", code)``, ``("array", rows)``,
``("missing",)`` (an omitted argument), ``("ref", sheet, (r1, c1, r2, c2), (abs r1, abs c1,
abs r2, abs c2)[, slots])`` (relative parts are offsets from the host cell; whole columns or
rows have 0 for their open ends; ``slots`` numbers its cell endpoints when :func:`parse` is
asked to), ``("name", NAME, sheet)``, ``("table", text, sheet)`` (a
structured reference), ``("spill", ref)`` (``A1#``), ``("call", NAME, args)``,
``("neg", x)``, ``("pct", x)``, ``("op", symbol, a, b)``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError

__all__ = ["FormulaSyntaxError", "Node", "parse", "parse_reference", "shape_key", "tokens"]

Node = tuple[Any, ...]


class FormulaSyntaxError(ValueError):
    """A formula the grammar cannot read."""


_MAX_ROW, _MAX_COL = 1_048_576, 16_384
ADDIN_PREFIX = re.compile(r"^(?:_xludf\.|\[\d+\]!|'[^']*(?:''[^']*)*'!|[^'!(]+\.xla[m]?!)", re.I)
"""What Excel may store before an add-in's function: ``_xludf.``, ``[1]!``, ``'C:\\...\\xl_var.xlam'!``."""
_SPILL_REF = re.compile(r"(?<![\w.])((?:'[^']*(?:''[^']*)*'|[A-Za-z_][\w.]*)!)?(\$?[A-Z]{1,3}\$?\d+)#")
_CELL = re.compile(r"^(\$?)([A-Za-z]{1,3})(\$?)(\d+)$")
_COLS = re.compile(r"^(\$?)([A-Za-z]{1,3}):(\$?)([A-Za-z]{1,3})$")
_ROWS = re.compile(r"^(\$?)(\d+):(\$?)(\d+)$")
_PREFIX = re.compile(r"^_xl(?:fn|ws|udf)\.", re.I)
_BINARY = {":": 8, " ": 7, "^": 5, "*": 4, "/": 4, "+": 3, "-": 3, "&": 2,
           "=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1}
_NEG, _PCT = 6, 6  # negation above ^ (Excel), percent likewise


def tokens(text: str) -> list[Token] | None:
    """openpyxl's tokens of ``text``; a typed spill reference ``A1#`` is read as Excel stores it,
    ``ANCHORARRAY(A1)``. None for text the tokenizer cannot read."""
    for attempt in (text, _SPILL_REF.sub(lambda m: f"_xlfn.ANCHORARRAY({m.group(1) or ''}{m.group(2)})", text)):
        try:
            return list(Tokenizer(attempt).items)
        except TokenizerError:
            continue
    return None


@functools.cache
def _col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _sheet_of(text: str) -> tuple[str | None, str]:
    sheet, bang, rest = text.rpartition("!")
    if not bang:
        return None, text
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, rest


def parse_reference(text: str, row: int, col: int) -> Node | None:
    """An A1 reference (``Sheet!$A$1:B2``, ``A:C``, ``3:5``) as a ``ref`` node relative to
    (row, col), or None if ``text`` is not one (a name, a structured reference).

    Whole columns and rows are absolute: :func:`shape_key` keeps their text, so formulas
    sharing a key must read the same columns."""
    sheet, rest = _sheet_of(text)
    parts = rest.split(":")
    if len(parts) == 2 and (m := _COLS.match(rest)):  # whole columns: kept absolute, as in the shape key
        return ("ref", sheet, (0, _col_number(m.group(2)), 0, _col_number(m.group(4))), (True,) * 4)
    if len(parts) == 2 and (m := _ROWS.match(rest)):
        return ("ref", sheet, (int(m.group(2)), 0, int(m.group(4)), 0), (True,) * 4)
    cells = [_CELL.match(p) for p in parts]
    if not all(cells):
        return None
    if len(parts) > 2:  # A1:B2:C3 is the smallest rectangle holding them all (kept absolute)
        rows = [int(m.group(4)) for m in cells if m]
        cols = [_col_number(m.group(2)) for m in cells if m]
        return ("ref", sheet, (min(rows), min(cols), max(rows), max(cols)), (True,) * 4)
    first, last = cells[0], cells[-1]
    assert first is not None and last is not None
    r1, c1, r2, c2 = int(first.group(4)), _col_number(first.group(2)), int(last.group(4)), _col_number(last.group(2))
    if not (1 <= r1 <= _MAX_ROW and 1 <= r2 <= _MAX_ROW and c1 <= _MAX_COL and c2 <= _MAX_COL):
        return None
    absolute = (bool(first.group(3)), bool(first.group(1)), bool(last.group(3)), bool(last.group(1)))
    offsets = (r1 if absolute[0] else r1 - row, c1 if absolute[1] else c1 - col,
               r2 if absolute[2] else r2 - row, c2 if absolute[3] else c2 - col)
    return ("ref", sheet, offsets, absolute)


# ----------------------------------------------------------------------------- shapes
_SHAPE = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|\[[^\]]*\]'
                    r"|(?<![\w.$])(\$?)([A-Z]{1,3})(\$?)(\d+)(?![\w.(!\[])")


def shape_key(text: str) -> tuple[str, tuple[int, ...]]:
    """``text`` with each A1 cell reference replaced by a placeholder, and the references' (row,
    column) pairs in text order, flattened: formulas that differ only in the cells they read share
    the key, and so one compiled function (:func:`parse` with ``slots`` numbers the same pairs).

    Text in quotes, quoted sheet names and structured references are kept as they are; a
    reference followed by ``!`` is a sheet's name, and one followed by ``(`` a function's.
    """
    points: list[int] = []

    def sub(m: re.Match[str]) -> str:
        if m.group(2) is None:
            return m.group(0)
        points.append(int(m.group(4)))
        points.append(_col_number(m.group(2)))
        return "\x00"

    return _SHAPE.sub(sub, text), tuple(points)


# ----------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, items: list[Token], row: int, col: int, slots: bool) -> None:
        self.items = items
        self.i = 0
        self.row, self.col = row, col
        self.slots = slots
        self.slot = 0  # cell endpoints numbered so far (shape_key's order)

    def numbered(self, ref: Node, text: str) -> Node:
        """A ``ref`` node with the numbers of its cell endpoints, when numbering."""
        if not self.slots:
            return ref
        count = 0 if _COLS.match(text.rpartition("!")[2]) or _ROWS.match(text.rpartition("!")[2]) \
            else text.rpartition("!")[2].count(":") + 1
        self.slot += count
        return (*ref, tuple(range(self.slot - count, self.slot)))

    def peek(self) -> Token | None:
        return self.items[self.i] if self.i < len(self.items) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise FormulaSyntaxError("the formula ends too early")
        self.i += 1
        return tok

    def expression(self, floor: int = 0) -> Node:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok is None:
                return left
            if tok.type == Token.OP_POST:
                self.i += 1
                left = ("pct", left)
                continue
            if tok.type == Token.WSPACE:
                after = self.items[self.i + 1] if self.i + 1 < len(self.items) else None
                if after is None or not (after.subtype == Token.RANGE or (
                        after.type in (Token.FUNC, Token.PAREN) and after.subtype == Token.OPEN)):
                    self.i += 1  # layout, not the intersection operator
                    continue
            symbol = " " if tok.type == Token.WSPACE else tok.value if tok.type == Token.OP_IN else None
            if symbol is None or _BINARY.get(symbol, -1) <= floor:
                return left
            self.i += 1
            prec = _BINARY[symbol]
            right = self.expression(prec)  # all binary operators associate to the left
            left = ("op", symbol, left, right)

    def unary(self) -> Node:
        tok = self.take()
        if tok.type == Token.OP_PRE:
            operand = self.expression(_NEG)
            return ("neg", operand) if tok.value == "-" else operand
        if tok.type == Token.WSPACE:
            return self.unary()
        if tok.type == Token.OPERAND:
            return self.operand(tok)
        if tok.type == Token.PAREN and tok.subtype == Token.OPEN:
            inner = self.expression()
            self.skip_space()
            close = self.take()
            if close.type != Token.PAREN or close.subtype != Token.CLOSE:
                raise FormulaSyntaxError("unbalanced parenthesis")
            return inner
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            return self.call(tok.value[:-1])
        if tok.type == Token.ARRAY and tok.subtype == Token.OPEN:
            return self.array()
        raise FormulaSyntaxError(f"unexpected {tok.value!r}")

    def skip_space(self) -> None:
        while (tok := self.peek()) is not None and tok.type == Token.WSPACE:
            self.i += 1

    def operand(self, tok: Token) -> Node:
        value = tok.value
        if tok.subtype == Token.NUMBER:
            return ("num", float(value))
        if tok.subtype == Token.TEXT:
            return ("str", value[1:-1].replace('""', '"'))
        if tok.subtype == Token.LOGICAL:
            return ("bool", value.upper() == "TRUE")
        if tok.subtype == Token.ERROR:
            return ("err", value.upper())
        ref = parse_reference(value, self.row, self.col)
        if ref is not None:
            return self.numbered(ref, value)
        sheet, rest = _sheet_of(value)
        if "[" in rest:
            return ("table", rest, sheet)
        if rest.upper() in ("TRUE", "FALSE"):
            return ("bool", rest.upper() == "TRUE")
        return ("name", rest.upper(), sheet)

    def call(self, raw: str) -> Node:
        if ":" in raw and not ADDIN_PREFIX.match(raw):  # A1:INDEX(...): the tokenizer glues the reference on
            ref_text, _, raw = raw.rpartition(":")
            ref = parse_reference(ref_text, self.row, self.col)
            if ref is None:
                raise FormulaSyntaxError(f"cannot read {ref_text!r}")
            return ("op", ":", self.numbered(ref, ref_text), self.call(raw))
        name = _PREFIX.sub("", ADDIN_PREFIX.sub("", raw)).upper()
        args: list[Node] = []
        expect_arg = True
        while True:
            self.skip_space()
            tok = self.peek()
            if tok is None:
                raise FormulaSyntaxError(f"{name}( is not closed")
            if tok.type == Token.FUNC and tok.subtype == Token.CLOSE:
                self.i += 1
                if expect_arg and args:
                    args.append(("missing",))
                break
            if tok.type == Token.SEP and tok.subtype == Token.ARG:
                self.i += 1
                if expect_arg:
                    args.append(("missing",))
                expect_arg = True
                continue
            args.append(self.expression())
            expect_arg = False
        if name == "ANCHORARRAY" and len(args) == 1 and args[0][0] == "ref":
            return ("spill", args[0])
        return ("call", name, tuple(args))

    def array(self) -> Node:
        rows: list[list[Node]] = [[]]
        while True:
            tok = self.take()
            if tok.type == Token.ARRAY and tok.subtype == Token.CLOSE:
                break
            if tok.type == Token.SEP:
                if tok.subtype == Token.ROW:
                    rows.append([])
                continue
            if tok.type == Token.OP_PRE:
                value = self.operand(self.take())
                rows[-1].append(("num", -value[1]) if tok.value == "-" and value[0] == "num" else value)
                continue
            rows[-1].append(self.operand(tok))
        return ("array", tuple(tuple(r) for r in rows))


def parse(text: str, row: int, col: int, slots: bool = False) -> tuple[Node, int]:
    """The syntax tree of ``text`` (``"=..."``) held by the cell at (row, col), and how many cell
    endpoints its references have.

    With ``slots``, each ``ref`` node also carries the numbers of its endpoints in text order
    (a fifth item), which index the pairs :func:`shape_key` finds: the tree then serves every
    formula of its shape. (A caller checks that both counts agree before sharing it.)

    Raises
    ------
    FormulaSyntaxError
        When the text is no formula Excel could have stored.
    """
    items = tokens(text)
    if items is None:
        raise FormulaSyntaxError("the tokenizer cannot read it")
    parser = _Parser(items, row, col, slots)
    parser.skip_space()
    if parser.peek() is None:
        return ("missing",), 0
    node = parser.expression()
    parser.skip_space()
    if parser.peek() is not None:
        raise FormulaSyntaxError(f"unexpected {parser.peek().value!r}")  # type: ignore[union-attr]
    return node, parser.slot

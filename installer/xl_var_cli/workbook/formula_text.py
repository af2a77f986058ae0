"""Rewrite a cell's formula text into what the ``formulas`` engine evaluates the way Excel does.

The text stored in the workbook is never changed; only the copy handed to the engine is.
:func:`rewrite` tokenizes a formula with openpyxl's Excel tokenizer and

* strips the prefixes Excel may store in front of an add-in function
  (``_xludf.AGGVAR``, ``[1]!AGGVAR``, ``'C:\\...\\xl_var.xlam'!AGGVAR``);
* replaces an omitted argument of an xl-var function (``AGGVAR(r, w, , , "normal")``)
  with :data:`BLANK`, because ``formulas`` turns a blank argument into 0 while Excel
  passes "missing" (the xl-var function then uses its default);
* replaces a spill reference (``A1#``, stored as ``_xlfn.ANCHORARRAY(A1)``) with the
  range the anchor spills into, which the caller supplies;
* renames sheets to plain aliases the caller supplies (``formulas`` mishandles some sheet
  names, e.g. with an apostrophe);
* reports what the engine cannot calculate: functions it does not know and references
  to other workbooks;
* says whether the formula calls an xl-var function (a function token, not a name, sheet
  or text that merely contains one's name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError

__all__ = ["ADDIN_PREFIX", "BLANK", "Rewritten", "references", "rewrite", "split_ref", "tokens"]

BLANK = "\ue000"
"""A text no cell can hold (Unicode private use), standing for an omitted argument."""

ADDIN_PREFIX = re.compile(r"^(?:_xludf\.|\[\d+\]!|'[^']*(?:''[^']*)*'!|[^'!(]+\.xla[m]?!)", re.I)
_ANCHOR = "_XLFN.ANCHORARRAY("
_SPILL_REF = re.compile(r"(?<![\w.])((?:'[^']*(?:''[^']*)*'|[A-Za-z_][\w.]*)!)?(\$?[A-Z]{1,3}\$?\d+)#")

SpillLookup = Callable[[str | None, str], str | None]
"""(sheet named in the reference or None, cell) -> the range it spills into, or None."""


@dataclass(frozen=True)
class Rewritten:
    """A formula ready for the engine, and what in it the engine cannot calculate."""

    text: str
    unknown_functions: tuple[str, ...] = ()
    external: bool = False
    calls_ours: bool = False


def split_ref(ref: str) -> tuple[str | None, str]:
    """``"'My Sheet'!$A$1"`` -> ``("My Sheet", "A1")``; ``"B2"`` -> ``(None, "B2")``."""
    sheet, bang, cell = ref.rpartition("!")
    if not bang:
        return None, ref.replace("$", "").upper()
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, cell.replace("$", "").upper()


def _renamed(ref: str, sheets: Mapping[str, str]) -> str:
    """A reference with its sheet replaced by the sheet's alias (``'My Sheet'!A1`` -> ``S2!A1``)."""
    prefix, bang, rest = ref.rpartition("!")
    if not bang or prefix.startswith("["):
        return ref
    name = prefix[1:-1].replace("''", "'") if prefix.startswith("'") and prefix.endswith("'") else prefix
    alias = sheets.get(name.upper())
    return f"{alias}!{rest}" if alias else ref


def _spill_text(ref: str, spills: SpillLookup, sheets: Mapping[str, str]) -> str:
    sheet, cell = split_ref(ref)
    target = spills(sheet, cell) or cell
    prefix = ref.rpartition("!")[0]
    return _renamed(f"{prefix}!{target}" if prefix else target, sheets)


def tokens(text: str) -> list[Token] | None:
    """Tokens of ``text``; a typed spill reference ``A1#`` is read as Excel stores it, ANCHORARRAY(A1)."""
    for attempt in (text, _SPILL_REF.sub(lambda m: f"_xlfn.ANCHORARRAY({m.group(1) or ''}{m.group(2)})", text)):
        try:
            return list(Tokenizer(attempt).items)
        except TokenizerError:
            continue
    return None


def references(text: str) -> tuple[str, ...]:
    """The references and names a formula reads, as written (``"Sheet1!$A$1:$B$4"``, ``"Rate"``)."""
    items = tokens(text) or []
    return tuple(t.value for t in items if t.type == Token.OPERAND and t.subtype == Token.RANGE)


def rewrite(text: str, ours: Collection[str], known: Collection[str], spills: SpillLookup,
            sheets: Mapping[str, str] | None = None) -> Rewritten:
    """Rewrite ``text`` (starting with ``=``) for the engine.

    Parameters
    ----------
    text : str
        The formula as openpyxl reads it.
    ours : collection of str
        Upper-case names of xl-var's functions.
    known : collection of str
        Upper-case names of every function the engine implements (``ours`` included).
    spills : callable
        Finds the range an anchor cell spills into.
    sheets : mapping, optional
        Upper-case sheet name -> the alias the engine knows that sheet by.
    """
    sheets = sheets or {}
    items = tokens(text)
    if items is None:
        return Rewritten(text)
    out: list[str] = []
    unknown: list[str] = []
    external = False
    calls_ours = False
    frames: list[bool] = []  # one per open function/parenthesis/array: is it an xl-var call?
    last = ""  # "open", "sep" or "" (anything else) since the last non-blank token
    i = 0
    while i < len(items):
        tok = items[i]
        if tok.type == Token.WSPACE:
            out.append(tok.value)
            i += 1
            continue
        in_ours = bool(frames) and frames[-1]
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            name = ADDIN_PREFIX.sub("", tok.value[:-1]).upper()
            if (name + "(" == _ANCHOR and i + 2 < len(items) and items[i + 1].subtype == Token.RANGE
                    and items[i + 2].type == Token.FUNC and items[i + 2].subtype == Token.CLOSE):
                out.append(_spill_text(items[i + 1].value, spills, sheets))
                last = ""
                i += 3
                continue
            is_ours = name in ours
            calls_ours = calls_ours or is_ours
            if not is_ours and name not in known:
                unknown.append(tok.value[:-1])
            out.append(name + "(" if is_ours else tok.value)
            frames.append(is_ours)
            last = "open"
        elif tok.type in (Token.PAREN, Token.ARRAY) and tok.subtype == Token.OPEN:
            out.append(tok.value)
            frames.append(False)
            last = ""
        elif tok.subtype == Token.CLOSE:
            if in_ours and last == "sep":
                out.append(f'"{BLANK}"')
            out.append(tok.value)
            if frames:
                frames.pop()
            last = ""
        elif tok.type == Token.SEP and tok.subtype == Token.ARG:
            if in_ours and last in ("open", "sep"):
                out.append(f'"{BLANK}"')
            out.append(tok.value)
            last = "sep"
        else:
            is_range = tok.subtype == Token.RANGE
            external = external or (is_range and tok.value.lstrip("'").startswith("["))
            out.append(_renamed(tok.value, sheets) if is_range else tok.value)
            last = ""
        i += 1
    return Rewritten("=" + "".join(out), tuple(dict.fromkeys(unknown)), external, calls_ours)

"""Checks of the add-in that Excel would otherwise make silently (an invalid ribbon is dropped without a
word; one VBA syntax error disables every macro of the project).

* :func:`ribbon_errors`: the ribbon XML against Microsoft's customUI schema (``customUI.xsd`` for the
  2006 namespace, ``customui14.xsd`` for the 2009 one), loaded with ``xmlschema``;
* :func:`vba_syntax_errors`: a module's source against the VBA grammar of ``antlr4-vba``, after
  conditional compilation (:func:`preprocess`) for one target, Windows by default;
* :func:`callback_errors`: each ``onAction``/``onLoad`` names a public Sub with the signature Excel
  calls (``control As IRibbonControl``; ``ribbon As IRibbonUI``);
* :func:`runpython_errors`: each ``RunPython "import m; m.f()"`` target imports and is callable;
* :func:`package_errors`: every part of the .xlam has a content type, every relationship target exists,
  the VBA project and the ribbon are related as Excel expects.

``xmlschema`` and ``antlr4-vba`` are test tools (the ``dev`` extra), imported only when used.
"""

from __future__ import annotations

import importlib
import posixpath
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from xl_var_cli.vbaproject import Module

__all__ = [
    "MAC",
    "WINDOWS",
    "callback_errors",
    "package_errors",
    "preprocess",
    "ribbon_errors",
    "runpython_errors",
    "vba_syntax_errors",
]

WINDOWS: Mapping[str, object] = {"mac": False, "vba7": True, "win64": True, "win32": True}
MAC: Mapping[str, object] = {"mac": True, "vba7": True, "win64": False, "win32": False, "mac_office_version": 16}
_SCHEMAS = {"http://schemas.microsoft.com/office/2006/01/customui": "customUI.xsd",
            "http://schemas.microsoft.com/office/2009/07/customui": "customui14.xsd"}
_SIGNATURES = {"onAction": "IRibbonControl", "onLoad": "IRibbonUI"}
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_VBA_TYPE = "application/vnd.ms-office.vbaProject"
_VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
_UI_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"


# ----------------------------------------------------------------------------- ribbon
def ribbon_errors(xml: bytes, schemas: Path) -> list[str]:
    """Where ``xml`` breaks Microsoft's customUI schema (read from the folder ``schemas``); [] if valid."""
    import xmlschema

    namespace = ElementTree.fromstring(xml).tag.partition("}")[0].lstrip("{")
    if namespace not in _SCHEMAS:
        return [f"the root element's namespace {namespace!r} is not a customUI namespace"]
    schema = xmlschema.XMLSchema(str(schemas / _SCHEMAS[namespace]))
    return [f"{e.path}: {e.reason}" for e in schema.iter_errors(xml.decode("utf-8"))]


# ----------------------------------------------------------------------------- VBA grammar
_TOKEN = re.compile(r'\s*(?:("[^"]*")|(\d+(?:\.\d+)?)|([A-Za-z_]\w*)|(<>|<=|>=|=|<|>|\(|\)))')
_WORDS = {"not": " not ", "and": " and ", "or": " or ", "true": " True ", "false": " False "}
_OPS = {"=": "==", "<>": "!="}


def _value(expr: str, constants: Mapping[str, object]) -> object:
    """A conditional-compilation expression's value; an undefined constant is Empty (False), as in VBA."""
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:
            raise ValueError(f"cannot evaluate the conditional-compilation expression {expr!r}")
        text, number, word, op = m.groups()
        if word is not None:
            out.append(_WORDS.get(word.lower()) or repr(constants.get(word.lower(), False)))
        else:
            out.append(text or number or _OPS.get(op, op))
        pos = m.end()
    return eval("".join(out), {"__builtins__": {}}, {})  # only literals and operators built above


def _strip_comment(line: str) -> str:
    return re.sub(r"""('[^"]*$)|(\s+Rem\s.*$)""", "", line)


def preprocess(text: str, constants: Mapping[str, object] = WINDOWS) -> str:
    """``text`` as VBA compiles it for a target: directive lines and inactive branches blanked (line
    numbers kept). ``#Const`` values and ``#If``/``#ElseIf``/``#Else``/``#End If`` are followed."""
    env = {k.lower(): v for k, v in constants.items()}
    stack: list[tuple[bool, bool]] = []  # (this branch active, a branch of this #If was taken)
    out = []
    for line in text.replace("\r\n", "\n").split("\n"):
        word = line.strip().split(" ", 1)
        active = all(a for a, _ in stack)
        head = word[0].lower()
        rest = _strip_comment(word[1]) if len(word) > 1 else ""
        if head == "#const":
            if active:
                name, _, expr = rest.partition("=")
                env[name.strip().lower()] = _value(expr, env)
        elif head == "#if":
            taken = bool(_value(rest.rsplit("Then", 1)[0], env)) if active else False
            stack.append((taken, taken))
        elif head in ("#elseif", "#else"):
            if not stack:
                raise ValueError(f"{line.strip()!r} without #If")
            _, done = stack.pop()
            outer = all(a for a, _ in stack)
            taken = outer and not done and (head == "#else" or bool(_value(rest.rsplit("Then", 1)[0], env)))
            stack.append((taken, done or taken))
        elif head == "#end" and rest.strip().lower() == "if":
            if not stack:
                raise ValueError("#End If without #If")
            stack.pop()
        else:
            out.append(line if active else "")
            continue
        out.append("")
    if stack:
        raise ValueError("an #If without #End If")
    return "\r\n".join(out).rstrip("\r\n") + "\r\n"


def vba_syntax_errors(text: str, constants: Mapping[str, object] = WINDOWS) -> list[str]:
    """The VBA grammar's complaints about a module's source (``.bas``/``.cls`` text) for one target."""
    from antlr4 import CommonTokenStream, InputStream
    from antlr4.atn.PredictionMode import PredictionMode
    from antlr4.error.ErrorListener import ErrorListener
    from antlr4.error.Errors import ParseCancellationException
    from antlr4.error.ErrorStrategy import BailErrorStrategy, DefaultErrorStrategy
    from antlr4_vba.vbaLexer import vbaLexer
    from antlr4_vba.vbaParser import vbaParser

    try:
        source = preprocess(text, constants)
    except ValueError as exc:
        return [str(exc)]
    errors: list[str] = []

    class Collect(ErrorListener):  # type: ignore[misc]
        def syntaxError(self, recognizer: Any, symbol: Any, line: int, column: int, msg: str, e: Any) -> None:
            errors.append(f"line {line}:{column}: {msg}")

    lexer = vbaLexer(InputStream(source))
    lexer.removeErrorListeners()
    lexer.addErrorListener(Collect())
    tokens = CommonTokenStream(lexer)
    parser = vbaParser(tokens)
    parser.removeErrorListeners()
    parser._interp.predictionMode = PredictionMode.SLL  # fast; exact when it succeeds
    parser._errHandler = BailErrorStrategy()
    try:
        parser.startRule()  # type: ignore[no-untyped-call]
    except ParseCancellationException:  # SLL gave up: the full LL parse says where the error is
        tokens.seek(0)
        parser.reset()
        parser.addErrorListener(Collect())
        parser._errHandler = DefaultErrorStrategy()
        parser._interp.predictionMode = PredictionMode.LL
        parser.startRule()  # type: ignore[no-untyped-call]
    return errors


# ----------------------------------------------------------------------------- read-back
def _procedures(modules: Iterable[Module]) -> dict[str, str]:
    """``"Module.Name"`` -> the parameter list of each public Sub (no ``Private`` keyword)."""
    found = {}
    for module in modules:
        for m in re.finditer(r"^(?:Public\s+)?Sub\s+(\w+)\s*\(([^)]*)\)", module.code, re.M | re.I):
            found[f"{module.name}.{m.group(1)}".lower()] = m.group(2)
    return found


def callback_errors(ribbon_xml: bytes, modules: Iterable[Module]) -> list[str]:
    """Each ribbon callback that names no public Sub taking the one argument Excel passes."""
    subs = _procedures(modules)
    errors = []
    for element in ElementTree.fromstring(ribbon_xml).iter():
        for attr, kind in _SIGNATURES.items():
            target = element.get(attr)
            if target is None:
                continue
            params = subs.get(target.lower())
            if params is None:
                errors.append(f"{attr}={target!r}: no public Sub {target} in the VBA project")
            elif not re.fullmatch(rf"\s*(?:ByRef\s+)?\w+\s+As\s+{kind}\s*", params, re.I):
                errors.append(f"{attr}={target!r}: takes ({params.strip()}), Excel passes one {kind}")
    return errors


def runpython_errors(modules: Iterable[Module]) -> list[str]:
    """Each ``RunPython "import m; m.f()"`` whose module does not import or whose ``f`` is not callable."""
    errors = []
    for module in modules:
        for m in re.finditer(r'^[^\'\n]*RunPython\s+"import ([\w.]+);\s*([\w.]+)\.(\w+)\(\)"', module.code, re.M):
            imported, owner, func = m.groups()
            try:
                target = getattr(importlib.import_module(owner if owner == imported else imported), func, None)
            except ImportError as exc:
                errors.append(f"{module.name}: RunPython cannot import {imported} ({exc})")
                continue
            if owner != imported or not callable(target):
                errors.append(f"{module.name}: RunPython target {owner}.{func} is not a callable of {imported}")
    return errors


def _rels_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def package_errors(xlam: Path) -> list[str]:
    """What is missing from the Open Packaging structure of ``xlam`` (content types, relationships)."""
    errors = []
    with zipfile.ZipFile(xlam) as z:
        names = set(z.namelist())
        types = ElementTree.fromstring(z.read("[Content_Types].xml"))
        defaults = {e.get("Extension", "").lower(): e.get("ContentType") for e in types.iter(f"{_CT}Default")}
        overrides = {e.get("PartName", "").lstrip("/"): e.get("ContentType") for e in types.iter(f"{_CT}Override")}
        for part in sorted(overrides):
            if part not in names:
                errors.append(f"[Content_Types].xml names {part}, which the package lacks")
        for part in sorted(names - {"[Content_Types].xml"}):
            if part not in overrides and part.rsplit(".", 1)[-1].lower() not in defaults:
                errors.append(f"{part} has no content type")
        related: dict[str, set[str]] = {}
        for rels in sorted(n for n in names if n.endswith(".rels")):
            source = posixpath.join(posixpath.dirname(posixpath.dirname(rels)),
                                    posixpath.basename(rels)[:-len(".rels")])
            for rel in ElementTree.fromstring(z.read(rels)).iter(_REL):
                if rel.get("TargetMode") == "External":
                    continue
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join(posixpath.dirname(source), target))
                related.setdefault(rel.get("Type", ""), set()).add(path)
                if path not in names:
                    errors.append(f"{rels}: relationship target {target} is missing")
        if overrides.get("xl/vbaProject.bin", defaults.get("bin")) != _VBA_TYPE:
            errors.append(f"xl/vbaProject.bin is not typed {_VBA_TYPE}")
        if "xl/vbaProject.bin" not in related.get(_VBA_REL, set()):
            errors.append(f"{_rels_of('xl/workbook.xml')} does not relate xl/vbaProject.bin")
        if "customUI/customUI.xml" not in related.get(_UI_REL, set()):
            errors.append("_rels/.rels does not relate customUI/customUI.xml as the ribbon")
    return errors

"""The VBA modules of the add-in ``xl_var.xlam``, and its VBA project written from them on any OS.

The project holds, in this order:

* xlwings' template modules ``ThisWorkbook``, ``Sheet2`` and ``Dictionary``, read from the VBA project of
  xlwings' ribbon add-in template (``quickstart_addin_ribbon.xlam``);
* ``xlwings``: xlwings' custom add-in module with ``PROJECT_NAME = "xl_var"`` (:func:`xlwings_vba`), so
  the add-in reads its settings from ``%USERPROFILE%\\.xl_var\\xl_var.conf``;
* ``XlVarRibbon`` and ``XlVarEvents``: the ribbon callbacks and the WorkbookOpen relay (``addin/``);
* ``xlwings_udfs``: one VBA function per worksheet function of ``xl_var_udfs``, exactly as xlwings'
  "Import Functions" (``udfs.import_udfs``) writes it: xlwings' own ``udfs.generate_vba_wrapper`` runs
  in a child process, with its Windows-only modules stubbed where they are absent (:func:`wrappers_vba`);
* ``XlVarHelp``: the Function Wizard help that "Import Functions" registers through Excel's COM, as VBA
  (:func:`help_vba`): ``RegisterFunctions`` calls ``Application.MacroOptions`` with each function's
  description, category and argument descriptions, taken from the same ``__xlfunc__`` metadata;
  ``XlVarRibbon.OnRibbonLoad`` runs it when the add-in loads.

The project's references and information are the template's; see :mod:`xl_var_cli.vbaproject`.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from xl_var_cli import vbaproject
from xl_var_cli.errors import CliError
from xl_var_cli.vbaproject import Module

__all__ = [
    "EVENTS_VBA",
    "HELP_MODULE",
    "PROJECT_NAME",
    "RIBBON_VBA",
    "RIBBON_XML",
    "TEMPLATE",
    "VBA_PROJECT_NAME",
    "WRAPPERS_MODULE",
    "addin_modules",
    "help_vba",
    "template_path",
    "vba_project",
    "vba_string",
    "wrappers_vba",
    "xlwings_dir",
    "xlwings_vba",
]

PROJECT_NAME = "xl_var"
VBA_PROJECT_NAME = "XlVar"
SOURCES = Path(__file__).resolve().parent / "addin"
RIBBON_XML = SOURCES / "customUI.xml"
RIBBON_VBA = SOURCES / "XlVarRibbon.bas"
EVENTS_VBA = SOURCES / "XlVarEvents.cls"
UDF_MODULE = "xl_var_udfs"
WRAPPERS_MODULE = "xlwings_udfs"
HELP_MODULE = "XlVarHelp"
_MAX_TEXT = 255  # MacroOptions' limit on a description, as xlwings cuts them
TEMPLATE = "quickstart_addin_ribbon.xlam"
TEMPLATE_PROJECT = "myaddin"
_TEMPLATE_KEPT = ("ThisWorkbook", "Sheet2", "Dictionary")

#: Python that makes ``xlwings.udfs`` importable off Windows (the COM modules it imports, doing nothing) and
#: switches xlwings to its Windows decorators, as Excel's "Import Functions" runs them. Run it in a child
#: process so that the stubs never reach this one; the tests start from the same lines.
XLWINGS_WINDOWS_STUBS = """
import io, json, sys, types
try:
    import pythoncom, pywintypes, win32com.client
except ImportError:  # not Windows: the names xlwings.udfs imports, doing nothing
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["pythoncom"].CoInitialize = lambda: None
    sys.modules["pywintypes"].com_error = type("com_error", (Exception,), {})
    sys.modules["win32com.client"].Dispatch = lambda *a, **k: None
    sys.modules["win32com"].client = sys.modules["win32com.client"]
import xlwings
from xlwings import udfs
xlwings.func, xlwings.arg, xlwings.ret = udfs.xlfunc, udfs.xlarg, udfs.xlret
"""
_WRAPPERS_SCRIPT = XLWINGS_WINDOWS_STUBS + """
import xl_var_udfs
buf = io.StringIO()
udfs.generate_vba_wrapper("xl_var_udfs", xl_var_udfs, buf, types.SimpleNamespace(Name="xl_var.xlam"))
funcs = [f.__xlfunc__ for f in map(lambda attr: getattr(xl_var_udfs, attr), dir(xl_var_udfs))
         if hasattr(f, "__xlfunc__")]
help = [{"name": x["name"], "category": x["category"], "doc": x["ret"]["doc"],
         "args": [a["doc"] for a in x["args"] if not a["vba"]]} for x in funcs]
json.dump({"wrappers": buf.getvalue(), "help": help}, sys.stdout)
"""


def xlwings_dir() -> Path:
    import xlwings

    return Path(xlwings.__file__).resolve().parent


def template_path() -> Path:
    path = xlwings_dir() / TEMPLATE
    if not path.is_file():
        raise CliError(f"{path}: xlwings' ribbon add-in template is missing; reinstall xlwings")
    return path


def xlwings_vba() -> str:
    """xlwings' custom add-in VBA module, renamed for xl-var (``PROJECT_NAME = "xl_var"``).

    It matches the installed xlwings (its DLL version is in the module), which is why it is taken
    from the package rather than kept in this repository.
    """
    path = xlwings_dir() / "xlwings_custom_addin.bas"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{path}: cannot read xlwings' custom add-in module ({exc.strerror})") from None
    old = f'Public Const PROJECT_NAME As String = "{TEMPLATE_PROJECT}"'
    if text.count(old) != 1:
        raise CliError(f"{path}: this xlwings version has no line {old!r} to rename; "
                       "install the xlwings version pinned in pyproject.toml")
    return text.replace(old, f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"')


@functools.cache
def _from_xlwings() -> dict[str, Any]:
    """What xlwings' Windows machinery makes of ``xl_var_udfs`` (run once per process): the wrappers'
    VBA and, per function, the texts "Import Functions" registers for the Function Wizard."""
    done = subprocess.run([sys.executable, "-c", _WRAPPERS_SCRIPT], capture_output=True, text=True,
                          timeout=300, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise CliError(f"cannot generate the worksheet-function wrappers with xlwings: {last}")
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def wrappers_vba() -> str:
    """The ``xlwings_udfs`` module file that xlwings' "Import Functions" writes for ``xl_var_udfs``."""
    header = [f'Attribute VB_Name = "{WRAPPERS_MODULE}"',
              "'Autogenerated code by xlwings - changes will be lost with next import!",
              """#Const App = "Microsoft Excel" 'Adjust when using outside of Excel"""]
    return "\n".join(header) + "\n" + str(_from_xlwings()["wrappers"])


def vba_string(text: str) -> str:
    """``text`` (whitespace runs as one space, at most 255 characters) as a VBA string expression: ASCII in
    quotes (``"`` doubled), any other character as ``ChrW(code)``, so the module stays ASCII."""
    parts: list[str] = []
    for c in " ".join(text.split())[:_MAX_TEXT]:
        if " " <= c <= "~":
            if parts and parts[-1].startswith('"'):
                parts[-1] = parts[-1][:-1] + c.replace('"', '""') + '"'
            else:
                parts.append('"' + c.replace('"', '""') + '"')
        else:
            units = c.encode("utf-16-le")
            parts += [f"ChrW({int.from_bytes(units[i:i + 2], 'little')})" for i in range(0, len(units), 2)]
    return " & ".join(parts) or '""'


def help_vba() -> str:
    """The ``XlVarHelp`` module: ``RegisterFunctions`` gives every worksheet function its Function Wizard
    description, category and argument descriptions through ``Application.MacroOptions`` (Excel 2010 and
    later), the texts xlwings' "Import Functions" would register. One small Sub per function keeps each
    statement on one line and each procedure far below VBA's size limit; errors are ignored, so a failure
    leaves the functions working without help."""
    funcs = sorted(_from_xlwings()["help"], key=lambda f: str(f["name"]))
    lines = [f'Attribute VB_Name = "{HELP_MODULE}"',
             "' Function Wizard help for the xl-var worksheet functions: each function's description, category",
             "' and argument descriptions, registered with Application.MacroOptions as xlwings' \"Import Functions\"",
             "' does through COM. Generated by `xl-var addin build` from xl_var_udfs' docstrings: do not edit.",
             "' XlVarRibbon.OnRibbonLoad runs RegisterFunctions when the add-in loads.",
             "Option Explicit",
             "",
             "Public Sub RegisterFunctions()",
             "    On Error Resume Next",
             *(f"    Help{f['name']}" for f in funcs),
             "End Sub",
             "",
             "Private Sub Register(ByVal macroName As String, ByVal category As String, ByVal helpText As String, _",
             "                     Optional ByVal argDocs As Variant)",
             "    Dim target As String",
             "    On Error Resume Next",
             "    target = \"'\" & ThisWorkbook.Name & \"'!\" & macroName",
             "    If IsMissing(argDocs) Then",
             "        Application.MacroOptions Macro:=target, Description:=helpText, Category:=category",
             "    Else",
             "        Application.MacroOptions Macro:=target, Description:=helpText, Category:=category, _",
             "            ArgumentDescriptions:=argDocs",
             "    End If",
             "End Sub"]
    for f in funcs:
        call = f'    Register "{f["name"]}", {vba_string(f["category"])}, {vba_string(f["doc"])}'
        lines += ["", f"Private Sub Help{f['name']}()"]
        if f["args"]:
            lines.append(f"    Dim argDocs(0 To {len(f['args']) - 1}) As Variant")
            lines += [f"    argDocs({i}) = {vba_string(doc)}" for i, doc in enumerate(f["args"])]
            call += ", argDocs"
        lines += [call, "End Sub"]
    return "\n".join(lines) + "\n"


def _template_project() -> bytes:
    path = template_path()
    try:
        with zipfile.ZipFile(path) as z:
            return z.read("xl/vbaProject.bin")
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise CliError(f"{path}: cannot read xlwings' add-in template's VBA project ({exc})") from None


def addin_modules() -> list[Module]:
    """Every module of the add-in's VBA project, in order, as the project stores them."""
    template = vbaproject.read_project(_template_project(), path=f"{TEMPLATE}: xl/vbaProject.bin")
    kept = [m for name in _TEMPLATE_KEPT if (m := template.module(name)) is not None]
    if len(kept) != len(_TEMPLATE_KEPT):
        raise CliError(f"{TEMPLATE}: this xlwings version's template lacks one of {', '.join(_TEMPLATE_KEPT)}")
    ours = [Module.from_export(xlwings_vba(), "module"),
            Module.from_export(RIBBON_VBA.read_text(encoding="ascii"), "module"),
            Module.from_export(EVENTS_VBA.read_text(encoding="ascii"), "class"),
            Module.from_export(wrappers_vba(), "module"),
            Module.from_export(help_vba(), "module")]
    return kept + ours


def vba_project(modules: list[Module]) -> bytes:
    """``xl/vbaProject.bin`` for the add-in: ``modules`` with the template's references."""
    return vbaproject.write_project(_template_project(), VBA_PROJECT_NAME, modules)

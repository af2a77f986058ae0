"""``xl-var addin build | install | uninstall | status``: the Excel add-in ``xl_var.xlam``.

The add-in is xlwings' ribbon add-in template (``quickstart_addin_ribbon.xlam`` in the installed
xlwings package, see "Custom Add-ins" in xlwings' docs) with xl-var's ribbon (``addin/customUI.xml``)
put in place of the template's at the zip level. Its VBA cannot be changed without Excel, so
``build`` also writes the VBA modules the add-in needs next to it (``xl_var_vba/``):

* ``xlwings.bas``: xlwings' own custom add-in module with ``PROJECT_NAME = "xl_var"``, so the add-in
  reads its settings from ``%USERPROFILE%\\.xl_var\\xl_var.conf`` (not the xlwings add-in's);
* ``XlVarRibbon.bas``: the ribbon callbacks (``addin/XlVarRibbon.bas``), and ``MakeLive``, which
  turns the array results that ``xl-var refresh`` stored portably back into live array formulas
  when a workbook opens (:mod:`xl_var_cli.spillmarks`);
* ``XlVarEvents.cls``: the class that relays Excel's WorkbookOpen event to ``MakeLive``.

On Windows with Excel, ``build`` finishes the add-in through Excel's COM: it swaps those modules in,
imports the UDF wrappers of ``xl_var_udfs`` (xlwings' ``import_udfs``, what "Import Functions" runs)
and saves. That needs "Trust access to the VBA project object model" (File > Options > Trust Center >
Macro Settings). Elsewhere, or with ``--no-excel``, it says exactly what remains to be done in Excel.
``--dry-run`` prints what it would write.

``install`` puts the add-in into Excel's XLSTART folder and writes the add-in's xlwings configuration
(``"UDF MODULES","xl_var_udfs"`` and the interpreter, in xlwings' ``"KEY","VALUE"`` line format). An
existing configuration file is kept unless ``--force``; running it twice changes nothing more.
``--xlstart``/``$XLVAR_XLSTART`` and ``--config``/``$XLVAR_CONFIG`` override the locations;
``--dry-run`` prints every step without doing it, on any OS. Every file is written atomically.
``status`` says what is installed; on a machine without desktop Excel (Linux) it says so, and
exits 0 unless a configuration file there is wrong. Each action takes only the options it uses.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from xl_var_cli.errors import CliError

__all__ = [
    "ADDIN_NAME",
    "CONFIG_NAME",
    "EVENTS_VBA",
    "PROJECT_NAME",
    "RIBBON_VBA",
    "RIBBON_XML",
    "Plan",
    "add_parser",
    "addin_settings",
    "build",
    "default_config",
    "default_xlstart",
    "is_complete",
    "read_config",
    "xlwings_vba",
]

PROJECT_NAME = "xl_var"
ADDIN_NAME = f"{PROJECT_NAME}.xlam"
CONFIG_NAME = f"{PROJECT_NAME}.conf"
SOURCES = Path(__file__).resolve().parent / "addin"
RIBBON_XML = SOURCES / "customUI.xml"
RIBBON_VBA = SOURCES / "XlVarRibbon.bas"
EVENTS_VBA = SOURCES / "XlVarEvents.cls"
_OUR_VBA = (RIBBON_VBA, EVENTS_VBA)
UDF_MODULE = "xl_var_udfs"
ENV_XLSTART = "XLVAR_XLSTART"
ENV_CONFIG = "XLVAR_CONFIG"

_TEMPLATE = "quickstart_addin_ribbon.xlam"
_TEMPLATE_PROJECT = "myaddin"
_CUSTOMUI_PART = "customUI/customUI.xml"
_CUSTOMUI_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
_OUR_KEYS = ("UDF MODULES", "INTERPRETER_WIN", "INTERPRETER_MAC")

Say = Callable[[str], None]


# ----------------------------------------------------------------------------- files
def _fail(action: str, path: Path, exc: OSError) -> CliError:
    hint = " (is Excel running with the add-in open? close it and run again)" if isinstance(
        exc, PermissionError) else ""
    return CliError(f"cannot {action} {path}: {exc.strerror or exc}{hint}")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _fail("read", path, exc) from None


def _write(path: Path, data: bytes) -> None:
    """Write ``path`` atomically, making its folder; a failure is one :class:`CliError` naming ``path``."""
    from xl_var_udfs.atomic import write_atomic

    try:
        write_atomic(path, data, make_folder=True)
    except OSError as exc:
        raise _fail("write", path, exc) from None


# ----------------------------------------------------------------------------- build
def _xlwings_dir() -> Path:
    import xlwings

    return Path(xlwings.__file__).resolve().parent


def xlwings_vba() -> str:
    """xlwings' custom add-in VBA module, renamed for xl-var (``PROJECT_NAME = "xl_var"``).

    It matches the installed xlwings (its DLL version is in the module), which is why it is taken
    from the package rather than kept in this repository.
    """
    path = _xlwings_dir() / "xlwings_custom_addin.bas"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{path}: cannot read xlwings' custom add-in module ({exc.strerror})") from None
    old = f'Public Const PROJECT_NAME As String = "{_TEMPLATE_PROJECT}"'
    if text.count(old) != 1:
        raise CliError(f"{path}: this xlwings version has no line {old!r} to rename; "
                       "install the xlwings version pinned in pyproject.toml")
    return text.replace(old, f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"')


def _crlf(text: str) -> bytes:
    """VBA module files as the VBA editor imports them: CRLF line ends, ANSI (here plain ASCII)."""
    return "\r\n".join(text.splitlines()).encode("ascii", errors="strict") + b"\r\n"


def _ribbon_xml() -> bytes:
    data = RIBBON_XML.read_bytes()
    ElementTree.fromstring(data)  # a malformed ribbon would make Excel silently drop the tab
    return data


def _patched(name: str, data: bytes) -> bytes:
    if name == "xl/workbook.xml":  # the template's (inactive) add-in config sheet, white-labelled
        old, new = f'name="_{_TEMPLATE_PROJECT}.conf"', f'name="_{PROJECT_NAME}.conf"'
        return data.replace(old.encode(), new.encode())
    if name == "_rels/.rels" and _CUSTOMUI_REL.encode() not in data:
        rel = f'<Relationship Id="rIdXlVarUI" Type="{_CUSTOMUI_REL}" Target="{_CUSTOMUI_PART}"/>'
        return data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
    return data


def _assemble(template: Path) -> bytes:
    """The template's parts (entry dates kept, so builds are byte-identical) with xl-var's ribbon."""
    ribbon = _ribbon_xml()
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            names = src.namelist()
            for info in src.infolist():
                data = ribbon if info.filename == _CUSTOMUI_PART else _patched(info.filename, src.read(info))
                dst.writestr(info, data)
            if _CUSTOMUI_PART not in names:
                dst.writestr(zipfile.ZipInfo(_CUSTOMUI_PART, date_time=(1980, 1, 1, 0, 0, 0)), ribbon,
                             zipfile.ZIP_DEFLATED)
    except (OSError, zipfile.BadZipFile) as exc:
        raise CliError(f"{template}: cannot read xlwings' add-in template ({exc})") from None
    return out.getvalue()


def is_complete(xlam: Path) -> bool:
    """Whether the add-in's VBA project holds xl-var's modules (imported through Excel)."""
    try:
        with zipfile.ZipFile(xlam) as z:
            project = z.read("xl/vbaProject.bin")
            return b"Module=XlVarRibbon" in project and b"Class=XlVarEvents" in project
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


@dataclass(frozen=True)
class BuildReport:
    """What ``build`` produced: the add-in, its VBA sources, and whether Excel finished it."""

    addin: Path
    vba_dir: Path
    finished: bool
    remaining: str


def _remaining_steps(addin: Path, vba_dir: Path) -> str:
    return (
        f"remaining step (needs Excel on Windows with 'Trust access to the VBA project object model'): "
        f"run `xl-var addin build` there, or open {addin.name} in Excel, press Alt+F11 and in its VBA "
        f"project remove the modules 'xlwings' and 'RibbonMyAddin', import {vba_dir / 'xlwings.bas'}, "
        f"{vba_dir / RIBBON_VBA.name} and {vba_dir / EVENTS_VBA.name}, run the Sub ImportPythonUDFsToAddin, "
        "and save"
    )


def _finish_in_excel(addin: Path, vba_dir: Path) -> None:  # pragma: no cover - needs Excel (Windows)
    """Swap the VBA modules in, import the UDF wrappers and save, through Excel's COM."""
    import xlwings as xw
    from xlwings import udfs

    with xw.App(visible=False, add_book=False) as app:
        book = app.books.open(str(addin))
        try:
            project = book.api.VBProject
            components = project.VBComponents
        except Exception as exc:
            raise CliError("Excel refused access to the add-in's VBA project: enable File > Options > "
                           "Trust Center > Trust Center Settings > Macro Settings > 'Trust access to the "
                           f"VBA project object model' and run again ({exc})") from None
        for name in ("RibbonMyAddin", "xlwings", *(source.stem for source in _OUR_VBA)):
            with contextlib.suppress(Exception):  # an absent module: nothing to remove
                components.Remove(components(name))
        components.Import(str(vba_dir / "xlwings.bas"))
        for source in _OUR_VBA:
            components.Import(str(vba_dir / source.name))
        project.Name = "XlVar"
        udfs.import_udfs(UDF_MODULE, book.api)
        book.save()
        book.close()


def build(out: Path, *, excel: bool | None = None, say: Say = print, dry_run: bool = False) -> BuildReport:
    """Assemble ``out`` (an .xlam) from xlwings' ribbon add-in template and xl-var's ribbon.

    ``excel=None`` finishes the add-in through Excel's COM when on Windows; ``False`` never does;
    ``True`` requires it. When Excel did not finish it, the report's ``remaining`` says what to do.
    ``dry_run`` says each step without writing anything.
    """
    out = out.resolve()
    if out.suffix.lower() != ".xlam":
        raise CliError(f"{out}: the add-in must be an .xlam file")
    template = _xlwings_dir() / _TEMPLATE
    if not template.is_file():
        raise CliError(f"{template}: xlwings' ribbon add-in template is missing; reinstall xlwings")
    vba_dir = out.with_name(f"{out.stem}_vba")
    use_excel = sys.platform.startswith("win") if excel is None else excel
    if use_excel and not sys.platform.startswith("win"):
        raise CliError("finishing the add-in needs Excel on Windows; run without --excel")
    plan = Plan(dry_run, say)
    plan.step(f"build {out} from xlwings' {_TEMPLATE} with the xl-var ribbon",
              lambda: _write(out, _assemble(template)))
    plan.step(f"write its VBA modules to {vba_dir}", lambda: _write_vba(vba_dir))
    if use_excel:
        plan.step("import the VBA modules and the xl_var_udfs functions through Excel",
                  lambda: _finish_in_excel(out, vba_dir))
        return BuildReport(out, vba_dir, not dry_run, "")
    return BuildReport(out, vba_dir, False, _remaining_steps(out, vba_dir))


def _write_vba(vba_dir: Path) -> None:
    _write(vba_dir / "xlwings.bas", _crlf(xlwings_vba()))
    for source in _OUR_VBA:
        _write(vba_dir / source.name, _crlf(_read(source).decode("ascii")))


# ----------------------------------------------------------------------------- locations
def default_xlstart() -> Path | None:
    """Excel's per-user XLSTART folder on this OS (None where there is no desktop Excel)."""
    override = os.environ.get(ENV_XLSTART)
    if override:
        return Path(override)
    if sys.platform.startswith("win"):
        appdata = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(appdata) / "Microsoft" / "Excel" / "XLSTART"
    if sys.platform == "darwin":
        return (Path.home() / "Library" / "Group Containers" / "UBF8T346G9.Office" / "User Content"
                / "Startup" / "Excel")
    return None


def default_config() -> Path:
    """Where the add-in's VBA (xlwings' ``GetConfigFilePath`` with ``PROJECT_NAME``) reads its settings."""
    override = os.environ.get(ENV_CONFIG)
    if override:
        return Path(override)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / CONFIG_NAME
    home = Path(os.environ.get("USERPROFILE") or Path.home())
    return home / f".{PROJECT_NAME}" / CONFIG_NAME


def addin_settings(interpreter: str) -> dict[str, str]:
    """The configuration ``install`` writes: the UDF module and the Python interpreter."""
    if '"' in interpreter or "\n" in interpreter:
        raise CliError(f"--interpreter {interpreter!r}: a path with quotes or line breaks cannot be used")
    key = "INTERPRETER_MAC" if sys.platform == "darwin" else "INTERPRETER_WIN"
    return {"UDF MODULES": UDF_MODULE, key: interpreter}


def read_config(path: Path) -> dict[str, str]:
    """Read an xlwings configuration file (``"KEY","VALUE"`` lines); keys upper-cased like xlwings."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"{path}: not a text configuration file") from None
    except OSError as exc:
        raise _fail("read", path, exc) from None
    return {row[0].strip().upper(): row[1] if len(row) > 1 else ""
            for row in csv.reader(io.StringIO(text)) if row and row[0].strip()}


def _format_config(settings: Mapping[str, str]) -> bytes:
    return "".join(f'"{k}","{v}"\n' for k, v in settings.items()).encode("utf-8")


# ----------------------------------------------------------------------------- plan / commands
@dataclass
class Plan:
    """Steps to carry out in order; each is described before it runs (``--dry-run`` only describes)."""

    dry_run: bool
    say: Say = print

    def step(self, text: str, action: Callable[[], None] | None = None) -> None:
        self.say(("would " if self.dry_run else "") + text)
        if action is not None and not self.dry_run:
            action()


def _locations(args: argparse.Namespace, *, need_xlstart: bool = True) -> tuple[Path | None, Path]:
    xlstart = Path(args.xlstart) if args.xlstart else default_xlstart()
    config = Path(args.config) if args.config else default_config()
    if xlstart is None and need_xlstart and not args.dry_run:
        raise CliError(f"no Excel XLSTART folder is known on {sys.platform}: pass --xlstart DIR "
                       f"or set {ENV_XLSTART}")
    return xlstart, config


def _shown(xlstart: Path | None) -> Path:
    return (xlstart if xlstart is not None else Path("<Excel XLSTART folder>")) / ADDIN_NAME


def _install(args: argparse.Namespace) -> int:
    settings = addin_settings(args.interpreter)  # refuse a bad --interpreter before anything is written
    xlstart, config = _locations(args)
    target = _shown(xlstart)
    plan = Plan(args.dry_run)
    if args.file:
        source = Path(args.file)
        if not source.is_file() or not zipfile.is_zipfile(source):
            raise CliError(f"{source}: not an add-in (.xlam) file")
        plan.step(f"copy {source} to {target}", lambda: _write(target, _read(source)))
    else:
        def build_and_copy() -> None:
            with tempfile.TemporaryDirectory(prefix="xl-var-addin-") as tmp:
                report = build(Path(tmp) / ADDIN_NAME, excel=args.excel, say=lambda _: None)
                _write(target, _read(report.addin))

        plan.step(f"build the add-in from xlwings' ribbon add-in template and write it to {target}",
                  build_and_copy)
    if config.exists() and not args.force:
        current = read_config(config)
        if all(current.get(k) == v for k, v in settings.items()):
            print(f"configuration {config} is up to date")
        else:
            print(f"kept the existing configuration {config} (use --force to set "
                  + ", ".join(f"{k} = {v}" for k, v in settings.items()) + ")")
    else:
        merged = {**(read_config(config) if config.exists() else {}), **settings}
        plan.step(f"write {config}: " + ", ".join(f"{k} = {v}" for k, v in settings.items()),
                  lambda: _write(config, _format_config(merged)))
    if not args.dry_run:
        print(f"installed {target}; restart Excel to load the xl-var ribbon and functions")
        if not is_complete(target):
            print("the add-in still needs its VBA modules imported in Excel: run `xl-var addin build`, follow "
                "the step it prints, then `xl-var addin install --file xl_var.xlam`")
    return 0


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _fail("remove", path, exc) from None


def _uninstall(args: argparse.Namespace) -> int:
    xlstart, config = _locations(args)
    target = _shown(xlstart)
    plan = Plan(args.dry_run)
    if xlstart is None or target.exists():
        plan.step(f"remove {target}", lambda: _remove(target))
    else:
        print(f"{target} is not installed")
    if config.exists():
        others = set(read_config(config)) - set(_OUR_KEYS)
        if others and not args.force:
            print(f"kept {config}: it also holds {', '.join(sorted(others))} (use --force to remove it)")
        else:
            plan.step(f"remove {config}", lambda: _remove(config))
    return 0


def _status(args: argparse.Namespace) -> int:
    xlstart, config = _locations(args, need_xlstart=False)
    installed = xlstart is not None and (xlstart / ADDIN_NAME).is_file()
    if xlstart is None:
        print(f"add-in: this machine ({sys.platform}) has no desktop Excel, so there is nothing to install here "
              f"(`xl-var addin build` still builds the add-in; --xlstart DIR or ${ENV_XLSTART} names a folder)")
    elif installed:
        state = "complete" if is_complete(xlstart / ADDIN_NAME) else "its VBA modules are not imported yet"
        print(f"add-in: installed at {xlstart / ADDIN_NAME} ({state})")
    else:
        print(f"add-in: not installed (`xl-var addin install` puts it at {xlstart / ADDIN_NAME})")
    configured = False
    if config.exists():
        current = read_config(config)
        configured = UDF_MODULE in current.get("UDF MODULES", "").split(";")
        print(f"configuration: {config}: " + ", ".join(f"{k} = {v}" for k, v in current.items()))
        if not configured:
            print(f"configuration: UDF MODULES does not name {UDF_MODULE} "
                  "(`xl-var addin install --force` sets it)")
    else:
        print(f"configuration: none at {config}")
    wrong = config.exists() and not configured
    missing = xlstart is not None and not (installed and configured)
    return 1 if wrong or missing else 0


def _build(args: argparse.Namespace) -> int:
    report = build(Path(args.output), excel=args.excel, dry_run=args.dry_run)
    if not report.finished:
        print(report.remaining)
    return 0


def _excel_options(p: Any) -> None:
    p.add_argument("--excel", dest="excel", action="store_true", default=None,
                   help="finish the add-in through Excel's COM (default: on Windows)")
    p.add_argument("--no-excel", dest="excel", action="store_false",
                   help="never start Excel; print the remaining step instead")


def _where_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--xlstart", help=f"Excel's XLSTART folder (default: ${ENV_XLSTART} or Excel's own)")
    p.add_argument("--config", help=f"the add-in's configuration file (default: ${ENV_CONFIG} or "
                                    f"~/.{PROJECT_NAME}/{CONFIG_NAME})")


def _dry_run_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="print each step without doing it")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("addin", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cmds = p.add_subparsers(dest="addin_command", required=True, metavar="ACTION")

    b = cmds.add_parser("build", help="assemble xl_var.xlam")
    b.add_argument("-o", "--output", default=ADDIN_NAME, help=f"the add-in to write (default: {ADDIN_NAME})")
    _excel_options(b)
    _dry_run_option(b)
    b.set_defaults(func=_build)

    i = cmds.add_parser("install", help="put the add-in in XLSTART and configure it")
    _where_options(i)
    source = i.add_mutually_exclusive_group()
    source.add_argument("--file", help="install this .xlam instead of building one")
    _excel_options(source)
    i.add_argument("--interpreter", default=sys.executable, help="Python for the add-in (default: this one)")
    i.add_argument("--force", action="store_true", help="replace an existing configuration")
    _dry_run_option(i)
    i.set_defaults(func=_install)

    u = cmds.add_parser("uninstall", help="remove the add-in and its configuration")
    _where_options(u)
    u.add_argument("--force", action="store_true", help="remove the configuration even if it holds other settings")
    _dry_run_option(u)
    u.set_defaults(func=_uninstall)

    s = cmds.add_parser("status", help="say what is installed (exit 1 when something is missing or wrong)")
    _where_options(s)
    s.set_defaults(func=_status)

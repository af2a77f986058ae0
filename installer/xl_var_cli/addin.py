"""``xl-var addin build | install | uninstall | status``: the Excel add-in ``xl_var.xlam``.

The add-in is xlwings' ribbon add-in template (``quickstart_addin_ribbon.xlam`` in the installed
xlwings package, see "Custom Add-ins" in xlwings' docs) with xl-var's ribbon (``addin/customUI.xml``)
in place of the template's and a VBA project that ``build`` writes itself, on any OS, in the
MS-OVBA format (:mod:`xl_var_cli.vbaproject`): xlwings' template modules, xlwings' custom add-in
module renamed for xl-var, the ribbon callbacks ``XlVarRibbon``, the event relay ``XlVarEvents``
the worksheet-function wrappers ``xlwings_udfs`` that xlwings' "Import Functions" would write, and
``XlVarHelp``, which registers the Function Wizard's descriptions through ``Application.MacroOptions``
when the ribbon loads (:mod:`xl_var_cli.addin_vba`). The project carries source only (no compiled
code): Excel compiles it when it opens the add-in.

``--via-excel`` (Windows, the fallback) builds the template's VBA project instead and has Excel swap
the modules in and import the wrappers through COM, which needs "Trust access to the VBA project
object model" (File > Options > Trust Center > Macro Settings). ``--dry-run`` prints what it would do.

``install`` puts the add-in into Excel's XLSTART folder and writes the add-in's xlwings configuration
(``"UDF MODULES","xl_var_udfs"`` and the interpreter, in xlwings' ``"KEY","VALUE"`` line format). An
existing configuration file is kept unless ``--force``; running it twice changes nothing more.
``--xlstart``/``$XLVAR_XLSTART`` and ``--config``/``$XLVAR_CONFIG`` override the locations;
``--dry-run`` prints every step without doing it, on any OS. Every file is written atomically.
``status`` reads the installed add-in's VBA project and says which modules and wrappers it holds and
whether they are the ones this version of xl-var writes; on a machine without desktop Excel (Linux)
it says so, and exits 0 unless a configuration file there is wrong. Each action takes only the
options it uses.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from xl_var_cli import vbaproject
from xl_var_cli.addin_vba import (
    EVENTS_VBA,
    PROJECT_NAME,
    RIBBON_VBA,
    RIBBON_XML,
    UDF_MODULE,
    VBA_PROJECT_NAME,
    WRAPPERS_MODULE,
    addin_modules,
    template_path,
    vba_project,
    xlwings_vba,
)
from xl_var_cli.errors import CliError
from xl_var_cli.vbaproject import Module

__all__ = [
    "ADDIN_NAME",
    "CONFIG_NAME",
    "EVENTS_VBA",
    "PROJECT_NAME",
    "RIBBON_VBA",
    "RIBBON_XML",
    "AddinState",
    "Plan",
    "add_parser",
    "addin_settings",
    "addin_state",
    "build",
    "default_config",
    "default_xlstart",
    "is_complete",
    "read_config",
    "xlwings_vba",
]

ADDIN_NAME = f"{PROJECT_NAME}.xlam"
CONFIG_NAME = f"{PROJECT_NAME}.conf"
_OUR_VBA = (RIBBON_VBA, EVENTS_VBA)
ENV_XLSTART = "XLVAR_XLSTART"
ENV_CONFIG = "XLVAR_CONFIG"

_TEMPLATE_PROJECT = "myaddin"
_CUSTOMUI_PART = "customUI/customUI.xml"
_VBA_PART = "xl/vbaProject.bin"
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


def _assemble(template: Path, project: bytes | None) -> bytes:
    """The template's parts (entry dates kept, so builds are byte-identical) with xl-var's ribbon and,
    unless ``project`` is None, that VBA project in place of the template's."""
    ribbon = _ribbon_xml()
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            names = src.namelist()
            for info in src.infolist():
                if info.filename == _CUSTOMUI_PART:
                    data = ribbon
                elif info.filename == _VBA_PART and project is not None:
                    data = project
                else:
                    data = _patched(info.filename, src.read(info))
                dst.writestr(info, data)
            if _CUSTOMUI_PART not in names:
                dst.writestr(zipfile.ZipInfo(_CUSTOMUI_PART, date_time=(1980, 1, 1, 0, 0, 0)), ribbon,
                             zipfile.ZIP_DEFLATED)
    except (OSError, zipfile.BadZipFile) as exc:
        raise CliError(f"{template}: cannot read xlwings' add-in template ({exc})") from None
    return out.getvalue()


def _wrapper_names(module: Module | None) -> list[str]:
    return re.findall(r"^Function (\w+)\(", module.code, re.M) if module is not None else []


@dataclass(frozen=True)
class AddinState:
    """What an add-in's VBA project holds compared with what this version of xl-var writes."""

    modules: tuple[str, ...]
    wrappers: tuple[str, ...]
    missing: tuple[str, ...]
    differing: tuple[str, ...]
    missing_wrappers: tuple[str, ...]

    @property
    def current(self) -> bool:
        return not (self.missing or self.differing or self.missing_wrappers)


def addin_state(xlam: Path, expected: list[Module] | None = None) -> AddinState:
    """Read ``xlam``'s VBA project and compare each module's source with ``expected`` (default: this
    version's modules, :func:`xl_var_cli.addin_vba.addin_modules`)."""
    try:
        with zipfile.ZipFile(xlam) as z:
            project = vbaproject.read_project(z.read(_VBA_PART), path=f"{xlam}: {_VBA_PART}")
    except KeyError:
        raise CliError(f"{xlam}: the add-in has no VBA project ({_VBA_PART})") from None
    except (zipfile.BadZipFile, ValueError) as exc:
        raise CliError(f"{xlam}: cannot read the add-in's VBA project ({exc})") from None
    except OSError as exc:
        raise _fail("read", xlam, exc) from None
    want = addin_modules() if expected is None else expected
    have = {m.name.lower(): m for m in project.modules}
    missing = [m.name for m in want if m.name.lower() not in have]
    differing = [m.name for m in want if m.name.lower() in have
                 and (have[m.name.lower()].code, have[m.name.lower()].kind) != (m.code, m.kind)]
    wrappers = _wrapper_names(have.get(WRAPPERS_MODULE.lower()))
    expected_wrappers = _wrapper_names(next((m for m in want if m.name == WRAPPERS_MODULE), None))
    return AddinState(tuple(m.name for m in project.modules), tuple(wrappers), tuple(missing), tuple(differing),
                      tuple(w for w in expected_wrappers if w not in wrappers))


def is_complete(xlam: Path) -> bool:
    """Whether the add-in's VBA project holds xl-var's modules and the worksheet-function wrappers."""
    try:
        with zipfile.ZipFile(xlam) as z:
            project = z.read(_VBA_PART)
            return all(line in project for line in (b"Module=XlVarRibbon", b"Class=XlVarEvents",
                                                    f"Module={WRAPPERS_MODULE}".encode()))
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


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
        project.Name = VBA_PROJECT_NAME
        udfs.import_udfs(UDF_MODULE, book.api)
        book.save()
        book.close()


def build(out: Path, *, via_excel: bool = False, say: Say = print, dry_run: bool = False) -> Path:
    """Write the add-in ``out`` (an .xlam): xlwings' ribbon add-in template, xl-var's ribbon and the
    whole VBA project, written here on any OS.

    ``via_excel`` (Windows only) instead has Excel import the modules through COM (the fallback; it
    needs "Trust access to the VBA project object model"). ``dry_run`` says each step without doing it.
    """
    out = out.resolve()
    if out.suffix.lower() != ".xlam":
        raise CliError(f"{out}: the add-in must be an .xlam file")
    template = template_path()
    plan = Plan(dry_run, say)
    if not via_excel:
        plan.step(f"build {out} from xlwings' {template.name} with the xl-var ribbon and a VBA project holding "
                  f"xlwings, XlVarRibbon, XlVarEvents and the {UDF_MODULE} wrappers ({WRAPPERS_MODULE})",
                  lambda: _write(out, _assemble(template, vba_project(addin_modules()))))
        return out
    if not sys.platform.startswith("win"):
        raise CliError("--via-excel needs Excel on Windows; without it the add-in is built on any OS")
    vba_dir = out.with_name(f"{out.stem}_vba")
    plan.step(f"build {out} from xlwings' {template.name} with the xl-var ribbon",
              lambda: _write(out, _assemble(template, None)))
    plan.step(f"write its VBA modules to {vba_dir}", lambda: _write_vba(vba_dir))
    plan.step("import the VBA modules and the xl_var_udfs functions through Excel",
              lambda: _finish_in_excel(out, vba_dir))
    return out


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
                built = build(Path(tmp) / ADDIN_NAME, via_excel=args.via_excel, say=lambda _: None)
                _write(target, _read(built))

        plan.step(f"build the add-in (xlwings' ribbon add-in template, the xl-var ribbon and VBA project) "
                  f"and write it to {target}",
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
            print("this add-in lacks xl-var's VBA modules: install the one `xl-var addin build` writes")
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
    up_to_date = False
    if xlstart is None:
        print(f"add-in: this machine ({sys.platform}) has no desktop Excel, so there is nothing to install here "
              f"(`xl-var addin build` still builds the add-in; --xlstart DIR or ${ENV_XLSTART} names a folder)")
    elif installed:
        state = addin_state(xlstart / ADDIN_NAME)
        up_to_date = state.current
        print(f"add-in: installed at {xlstart / ADDIN_NAME} ("
              + ("its VBA project is this version's" if state.current else "out of date: reinstall it with "
                 "`xl-var addin install`") + ")")
        print(f"VBA modules: {', '.join(state.modules)}")
        print(f"worksheet-function wrappers: {len(state.wrappers)} ({', '.join(state.wrappers) or 'none'})")
        for label, names in (("missing modules", state.missing), ("modules that differ from this version",
                             state.differing), ("missing wrappers", state.missing_wrappers)):
            if names:
                print(f"{label}: {', '.join(names)}")
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
    missing = xlstart is not None and not (installed and configured and up_to_date)
    return 1 if wrong or missing else 0


def _build(args: argparse.Namespace) -> int:
    build(Path(args.output), via_excel=args.via_excel, dry_run=args.dry_run)
    return 0


def _excel_options(p: Any) -> None:
    p.add_argument("--via-excel", action="store_true",
                   help="Windows fallback: import the VBA modules through Excel's COM (needs 'Trust access to "
                        "the VBA project object model') instead of writing the VBA project directly")


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

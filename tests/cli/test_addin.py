"""``xl-var addin build | install | uninstall | status`` on Linux, in temporary folders."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest
import xlwings
from defusedxml import ElementTree

from xl_var_cli import addin
from xl_var_cli.main import main

TEMPLATE = Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["addin", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def where(tmp_path: Path) -> list[str]:
    return ["--xlstart", str(tmp_path / "XLSTART"), "--config", str(tmp_path / "home" / ".xl_var" / "xl_var.conf")]


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ----------------------------------------------------------------------------- build
def test_build_puts_the_ribbon_into_xlwings_template(tmp_path, capsys):
    out = tmp_path / "dist" / "xl_var.xlam"
    code, text, _ = _run(capsys, "build", "-o", str(out))
    assert code == 0
    with zipfile.ZipFile(TEMPLATE) as t, zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        assert sorted(z.namelist()) == sorted(t.namelist())
        assert z.read("customUI/customUI.xml") == addin.RIBBON_XML.read_bytes()
        assert z.read("xl/vbaProject.bin") == t.read("xl/vbaProject.bin")
        assert z.read("[Content_Types].xml") == t.read("[Content_Types].xml")
        rels = ElementTree.fromstring(z.read("_rels/.rels"))
        targets = {r.get("Type"): r.get("Target") for r in rels}
        assert targets[addin._CUSTOMUI_REL] == "customUI/customUI.xml"
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
        assert [s.get("name") for s in book.iter(f"{ns}sheet")] == ["_xl_var.conf"]
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                ElementTree.fromstring(z.read(name))  # every part still parses
    # Without Excel the remaining step is spelled out, naming the VBA files written beside the add-in.
    vba = tmp_path / "dist" / "xl_var_vba"
    assert "remaining step" in text and "Trust access" in text
    assert str(vba / "XlVarRibbon.bas") in text and str(vba / "XlVarEvents.cls") in text
    assert not addin.is_complete(out)


def test_build_writes_the_vba_modules_as_excel_imports_them(tmp_path, capsys):
    out = tmp_path / "xl_var.xlam"
    assert _run(capsys, "build", "-o", str(out))[0] == 0
    xlw = (tmp_path / "xl_var_vba" / "xlwings.bas").read_bytes()
    ribbon = (tmp_path / "xl_var_vba" / "XlVarRibbon.bas").read_bytes()
    events = (tmp_path / "xl_var_vba" / "XlVarEvents.cls").read_bytes()
    for data in (xlw, ribbon, events):
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")  # CRLF only
        data.decode("ascii")
    # The white-label rename of xlwings' module: config file and sheet become xl_var.conf.
    assert xlw.count(b'Public Const PROJECT_NAME As String = "xl_var"') == 1
    assert b'PROJECT_NAME As String = "myaddin"' not in xlw
    original = (Path(xlwings.__file__).parent / "xlwings_custom_addin.bas").read_bytes()
    assert xlw.replace(b"\r\n", b"\n").replace(b'"xl_var"', b'"myaddin"').rstrip() == \
        original.replace(b"\r\n", b"\n").rstrip()
    assert ribbon.replace(b"\r\n", b"\n").rstrip() == addin.RIBBON_VBA.read_bytes().rstrip()
    assert events.replace(b"\r\n", b"\n").rstrip() == addin.EVENTS_VBA.read_bytes().rstrip()


def test_build_is_reproducible(tmp_path, capsys):
    a, b = tmp_path / "a" / "xl_var.xlam", tmp_path / "b" / "xl_var.xlam"
    assert _run(capsys, "build", "-o", str(a))[0] == 0
    assert _run(capsys, "build", "-o", str(b))[0] == 0
    assert a.read_bytes() == b.read_bytes()


def test_build_rejects_bad_output_and_excel_off_windows(tmp_path, capsys):
    code, _, err = _run(capsys, "build", "-o", str(tmp_path / "xl_var.xlsx"))
    assert code == 2 and err.count("\n") == 1 and ".xlam" in err and "Traceback" not in err
    code, _, err = _run(capsys, "build", "--excel", "-o", str(tmp_path / "x.xlam"))
    assert code == 2 and "Windows" in err and err.count("\n") == 1


def test_is_complete_reads_the_vba_project_module_list(tmp_path):
    fake = tmp_path / "done.xlam"
    with zipfile.ZipFile(fake, "w") as z:
        z.writestr("xl/vbaProject.bin", b"\x00ID=\"{x}\"\r\nModule=xlwings\r\nModule=XlVarRibbon\r\n"
                                        b"Class=XlVarEvents\r\n")
    assert addin.is_complete(fake)
    older = tmp_path / "older.xlam"  # built before the events class existed: not complete
    with zipfile.ZipFile(older, "w") as z:
        z.writestr("xl/vbaProject.bin", b"\x00ID=\"{x}\"\r\nModule=xlwings\r\nModule=XlVarRibbon\r\n")
    assert not addin.is_complete(older)
    assert not addin.is_complete(TEMPLATE)
    assert not addin.is_complete(tmp_path / "missing.xlam")


# ----------------------------------------------------------------------------- install
def test_install_copies_addin_and_writes_configuration(tmp_path, capsys, where):
    code, out, err = _run(capsys, "install", *where)
    assert code == 0, err
    xlam = tmp_path / "XLSTART" / "xl_var.xlam"
    with zipfile.ZipFile(xlam) as z:
        assert z.read("customUI/customUI.xml") == addin.RIBBON_XML.read_bytes()
    assert sorted(p.name for p in (tmp_path / "XLSTART").iterdir()) == ["xl_var.xlam"]  # no temp files
    conf = tmp_path / "home" / ".xl_var" / "xl_var.conf"
    assert conf.read_text() == f'"UDF MODULES","xl_var_udfs"\n"INTERPRETER_WIN","{sys.executable}"\n'
    assert "restart Excel" in out and "VBA modules imported" in out


def test_install_twice_changes_nothing(tmp_path, capsys, where):
    assert _run(capsys, "install", *where)[0] == 0
    before = _files(tmp_path)
    code, out, _ = _run(capsys, "install", *where)
    assert code == 0 and "up to date" in out
    assert _files(tmp_path) == before


def test_install_keeps_user_configuration_unless_force(tmp_path, capsys, where):
    conf = tmp_path / "home" / ".xl_var" / "xl_var.conf"
    conf.parent.mkdir(parents=True)
    mine = '"INTERPRETER_WIN","C:\\Python\\pythonw.exe"\n"LICENSE_KEY","abc"\n'
    conf.write_text(mine)
    code, out, _ = _run(capsys, "install", *where)
    assert code == 0 and conf.read_text() == mine and "--force" in out
    code, _, _ = _run(capsys, "install", *where, "--force", "--interpreter", "/opt/py/bin/python")
    assert code == 0
    assert addin.read_config(conf) == {"INTERPRETER_WIN": "/opt/py/bin/python", "LICENSE_KEY": "abc",
                                      "UDF MODULES": "xl_var_udfs"}


def test_install_from_file_and_bad_file(tmp_path, capsys, where):
    built = tmp_path / "mine.xlam"
    addin.build(built, excel=False, say=lambda _: None)
    assert _run(capsys, "install", *where, "--file", str(built))[0] == 0
    assert (tmp_path / "XLSTART" / "xl_var.xlam").read_bytes() == built.read_bytes()
    junk = tmp_path / "junk.xlam"
    junk.write_text("not a zip")
    code, _, err = _run(capsys, "install", *where, "--file", str(junk))
    assert code == 2 and "junk.xlam" in err and err.count("\n") == 1


def test_dry_run_prints_steps_and_writes_nothing(tmp_path, capsys, where, monkeypatch):
    code, out, _ = _run(capsys, "install", *where, "--dry-run")
    assert code == 0
    assert out.count("would ") == 2 and "xl_var.xlam" in out and "UDF MODULES = xl_var_udfs" in out
    assert list(tmp_path.iterdir()) == []
    # Any OS: with no XLSTART known (Linux, no override) it still prints the plan.
    monkeypatch.delenv(addin.ENV_XLSTART, raising=False)
    code, out, _ = _run(capsys, "install", "--dry-run", "--config", str(tmp_path / "c.conf"))
    assert code == 0 and "<Excel XLSTART folder>" in out
    assert _run(capsys, "uninstall", "--dry-run", "--config", str(tmp_path / "c.conf"))[0] == 0
    assert list(tmp_path.iterdir()) == []


def test_locations_from_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(addin.ENV_XLSTART, str(tmp_path / "xs"))
    monkeypatch.setenv(addin.ENV_CONFIG, str(tmp_path / "cfg.conf"))
    assert _run(capsys, "install")[0] == 0
    assert (tmp_path / "xs" / "xl_var.xlam").is_file() and (tmp_path / "cfg.conf").is_file()


def test_install_failures_exit_nonzero_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(addin.ENV_XLSTART, raising=False)
    if sys.platform.startswith("linux"):
        code, _, err = _run(capsys, "install", "--config", str(tmp_path / "c.conf"))
        assert code == 2 and "--xlstart" in err and err.count("\n") == 1
    blocker = tmp_path / "XLSTART"
    blocker.write_text("a file where the folder should be")
    code, _, err = _run(capsys, "install", "--xlstart", str(blocker), "--config", str(tmp_path / "c.conf"))
    assert code == 2 and err.startswith("xl-var addin: error:") and err.count("\n") == 1
    assert "Traceback" not in err and not (tmp_path / "c.conf").exists()
    code, _, err = _run(capsys, "install", "--xlstart", str(tmp_path / "ok"), "--config", str(tmp_path / "c.conf"),
                        "--interpreter", 'C:\\a"b\\python.exe')
    assert code == 2 and "--interpreter" in err


# ----------------------------------------------------------------------------- uninstall / status
def test_status_uninstall_cycle(tmp_path, capsys, where):
    code, out, _ = _run(capsys, "status", *where)
    assert code == 1 and "not installed" in out
    assert _run(capsys, "install", *where)[0] == 0
    code, out, _ = _run(capsys, "status", *where)
    assert code == 0 and "installed at" in out and "not imported yet" in out and "UDF MODULES = xl_var_udfs" in out
    code, out, _ = _run(capsys, "uninstall", *where)
    assert code == 0
    assert not (tmp_path / "XLSTART" / "xl_var.xlam").exists()
    assert not (tmp_path / "home" / ".xl_var" / "xl_var.conf").exists()
    code, out, _ = _run(capsys, "uninstall", *where)  # safe to run twice
    assert code == 0 and "not installed" in out
    assert _run(capsys, "status", *where)[0] == 1


def test_uninstall_keeps_configuration_with_other_settings_unless_force(tmp_path, capsys, where):
    assert _run(capsys, "install", *where)[0] == 0
    conf = tmp_path / "home" / ".xl_var" / "xl_var.conf"
    conf.write_text(conf.read_text() + '"LICENSE_KEY","abc"\n')
    code, out, _ = _run(capsys, "uninstall", *where)
    assert code == 0 and conf.exists() and "LICENSE_KEY" in out
    assert _run(capsys, "uninstall", *where, "--force")[0] == 0
    assert not conf.exists()


def test_status_flags_configuration_without_udf_module(tmp_path, capsys, where):
    assert _run(capsys, "install", *where)[0] == 0
    conf = tmp_path / "home" / ".xl_var" / "xl_var.conf"
    conf.write_text('"UDF MODULES","other_udfs"\n')
    code, out, _ = _run(capsys, "status", *where)
    assert code == 1 and "does not name xl_var_udfs" in out


def test_bad_interpreter_is_refused_before_anything_is_written(tmp_path, capsys, where):
    code, out, err = _run(capsys, "install", *where, "--interpreter", 'a"b')
    assert code == 2 and "--interpreter 'a\"b'" in err and err.count("\n") == 1
    assert out == "" and list(tmp_path.iterdir()) == []  # no add-in in XLSTART, no configuration


def test_install_reports_a_source_it_cannot_read_as_a_read_failure(tmp_path, capsys, where, monkeypatch):
    built = tmp_path / "mine.xlam"
    addin.build(built, excel=False, say=lambda _: None)
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == built:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    code, _, err = _run(capsys, "install", *where, "--file", str(built))
    assert code == 2 and f"cannot read {built}: Permission denied" in err and "cannot write" not in err
    assert not (tmp_path / "XLSTART" / "xl_var.xlam").exists()


# ----------------------------------------------------------------------------- options per action
def test_build_dry_run_writes_nothing(tmp_path, capsys):
    code, out, _ = _run(capsys, "build", "--dry-run", "-o", str(tmp_path / "dist" / "xl_var.xlam"))
    assert code == 0 and out.count("would ") == 2 and "remaining step" in out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a machine without desktop Excel")
def test_status_without_excel_says_so_and_succeeds(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(addin.ENV_XLSTART, raising=False)
    conf = tmp_path / "c.conf"
    code, out, _ = _run(capsys, "status", "--config", str(conf))
    assert code == 0 and "no desktop Excel" in out and "none at" in out
    conf.write_text('"UDF MODULES","other_udfs"\n')  # a wrong configuration is still wrong
    code, out, _ = _run(capsys, "status", "--config", str(conf))
    assert code == 1 and "does not name xl_var_udfs" in out


@pytest.mark.parametrize("argv", [
    ["status", "--dry-run"], ["status", "--force"], ["build", "--force"], ["build", "--xlstart", "x"],
    ["uninstall", "--interpreter", "x"], ["install", "--file", "x.xlam", "--excel"],
])
def test_options_that_mean_nothing_for_an_action_are_refused(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["addin", *argv])
    assert exit_.value.code == 2 and list(tmp_path.iterdir()) == []
    assert "error:" in capsys.readouterr().err

"""The ribbon's plain sources agree with each other and with Python: XML -> VBA Subs -> RunPython targets."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from defusedxml import ElementTree

from xl_var_cli.addin import EVENTS_VBA, RIBBON_VBA, RIBBON_XML
from xl_var_udfs import jobs, ribbon

NS = "{http://schemas.microsoft.com/office/2006/01/customui}"
VBA = RIBBON_VBA.read_text(encoding="ascii")  # the VBA editor imports ANSI: keep it ASCII


def _module_name(vba: str) -> str:
    m = re.search(r'^Attribute VB_Name = "(\w+)"', vba, re.M)
    assert m, "a .bas file starts with its VB_Name"
    return m.group(1)


def _subs(vba: str) -> dict[str, str]:
    """Sub name -> its parameter list, for every Sub in the module."""
    return {m.group(1): m.group(2).strip()
            for m in re.finditer(r"^(?:Public |Private )?Sub (\w+)\(([^)]*)\)", vba, re.M)}


def _buttons() -> list[dict[str, str]]:
    root = ElementTree.fromstring(RIBBON_XML.read_bytes())
    tabs = list(root.iter(f"{NS}tab"))
    assert [t.get("label") for t in tabs] == ["xl-var"]
    return [dict(b.attrib) for b in tabs[0].iter(f"{NS}button")]


def _runpython_targets(vba: str) -> list[str]:
    return re.findall(r'RunPython\s*\(?\s*"([^"]*)"', vba)


def test_ribbon_has_the_four_buttons():
    assert [b["label"] for b in _buttons()] == ["Run Monte Carlo", "Cancel", "Settings", "Help"]
    ids = [b["id"] for b in _buttons()]
    assert len(set(ids)) == len(ids)


def test_every_onaction_names_a_ribbon_callback_sub():
    module, subs = _module_name(VBA), _subs(VBA)
    for button in _buttons():
        mod, _, sub = button["onAction"].partition(".")
        assert mod == module, button
        assert sub in subs, f"{button['onAction']} is not a Sub in {RIBBON_VBA.name}"
        assert subs[sub] == "control As IRibbonControl"  # the onAction callback signature


def test_every_runpython_target_imports_and_is_callable():
    targets = _runpython_targets(VBA)
    assert len(targets) == 5
    called = set()
    for code in targets:
        tree = ast.parse(code)
        imports = [a.name for node in tree.body if isinstance(node, ast.Import) for a in node.names]
        calls = [node.value for node in tree.body if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)]
        assert imports and len(calls) == 1 and not calls[0].args, code
        for name in imports:
            importlib.import_module(name)
        target = ast.unparse(calls[0].func)
        module, _, func = target.rpartition(".")
        assert module in imports, code
        obj = getattr(importlib.import_module(module), func)
        assert callable(obj), target
        called.add(obj)
    assert called == {ribbon.run, ribbon.cancel, ribbon.settings, ribbon.show_help, ribbon.poll}


def test_each_button_sub_calls_exactly_one_entry_point():
    for button in _buttons():
        sub = button["onAction"].split(".")[1]
        body = re.search(rf"^Sub {sub}\(.*?^End Sub", VBA, re.M | re.S)
        assert body and len(_runpython_targets(body.group(0))) == 1


def test_the_workbook_open_step_is_wired_from_ribbon_load_to_make_live():
    # customUI onLoad -> XlVarRibbon.OnRibbonLoad, which hooks XlVarEvents to Excel's events;
    # XlVarEvents.App_WorkbookOpen -> XlVarRibbon.MakeLive(Wb). None of it calls Python.
    module, subs = _module_name(VBA), _subs(VBA)
    root = ElementTree.fromstring(RIBBON_XML.read_bytes())
    mod, _, sub = root.get("onLoad").partition(".")
    assert mod == module and subs[sub] == "ribbon As IRibbonUI"  # the onLoad callback signature
    events = EVENTS_VBA.read_text(encoding="ascii")
    assert _module_name(events) == EVENTS_VBA.stem and events.startswith("VERSION 1.0 CLASS\n")
    assert re.search(r"^Public WithEvents App As Application$", events, re.M)
    assert _subs(events) == {"App_WorkbookOpen": "ByVal Wb As Workbook"}  # Excel's event signature
    assert re.search(rf"^\s+{module}\.MakeLive Wb$", events, re.M)
    assert subs["MakeLive"] == "ByVal Wb As Workbook"
    load = re.search(rf"^Sub {sub}\(.*?^End Sub", VBA, re.M | re.S).group(0)
    assert f"New {EVENTS_VBA.stem}" in load and "Set Events.App = Application" in load and "MakeLive Wb" in load
    assert not _runpython_targets(load) and not _runpython_targets(events)


def test_ontime_poller_names_an_existing_sub():
    targets = re.findall(r'Application\.OnTime [^,]+,\s*"(.*)"', VBA)
    assert targets, "the poller reschedules itself with Application.OnTime"
    for t in targets:
        name = t.split("!")[-1].strip('"& ')
        mod, _, sub = name.partition(".")
        assert mod == _module_name(VBA) and sub in _subs(VBA) and _subs(VBA)[sub] == ""


def test_vba_poller_reads_the_files_python_writes(tmp_path, monkeypatch):
    # Same folder rule (environment variable, then "xl-var-mc" in %TEMP%), same file, same states.
    assert f'Environ("{jobs.ENV_JOBS}")' in VBA
    monkeypatch.delenv(jobs.ENV_JOBS, raising=False)
    monkeypatch.setenv("TEMP", str(tmp_path))
    folder = jobs.jobs_folder()
    assert folder == tmp_path / "xl-var-mc" and f'Environ("TEMP") & "\\{folder.name}"' in VBA
    files = jobs.JobFiles(folder)
    assert f'"\\{files.status.name}"' in VBA
    for state in (*jobs.ACTIVE, "idle"):
        assert f'"{state}"' in VBA
    stale = int(re.search(r"STALE_SECONDS As Long = (\d+)", VBA).group(1))
    assert stale >= 10 * jobs.BEAT  # a live worker's status file is never taken for a dead one
    # The file Python writes is what the VBA expects: one line, state TAB text, no line break.
    files.write_status("running", jobs.progress_text(420_000, 1_000_000))
    raw = files.status.read_bytes()
    assert raw == "running\txl-var MC 42% · 420,000 scenarios".encode()


@pytest.mark.parametrize("entry", [ribbon.run, ribbon.poll, ribbon.cancel, ribbon.settings, ribbon.show_help])
def test_entry_points_take_no_arguments(entry):
    import inspect

    assert not inspect.signature(entry).parameters
    assert entry.__doc__


def test_help_names_the_contract():
    for word in (jobs.RETURNS_NAME, jobs.WEIGHTS_NAME, jobs.SETTINGS_SHEET, jobs.RESULTS_SHEET, "Cancel",
                 jobs.POSITIONS_NAME, jobs.MARKET_NAME, jobs.VALUATION_NAME, jobs.SURFACE_NAME, "revaluation"):
        assert word in ribbon.HELP


def test_sources_ship_with_the_package():
    import tomllib

    root = Path(ribbon.__file__).resolve().parents[2]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    pattern = str(RIBBON_XML.parent.relative_to(root / "installer" / "xl_var_cli") / "*")
    assert pattern in data["xl_var_cli"]  # installed with the package, found by `xl-var addin build`


def test_xlwings_api_used_by_the_adapter_exists():
    # XlwingsApp runs only inside Excel; this pins the xlwings API it calls (>= 0.37.3 for charts).
    import inspect

    import xlwings.main as xm

    assert {"anchor", "width", "height", "chart_type", "source", "plot_by"} <= set(
        inspect.signature(xm.Charts.add).parameters)
    for cls, attrs in ((xm.Chart, ("set_x_axis_values", "title", "category_axis", "value_axis", "delete")),
                       (xm.App, ("status_bar", "alert", "books")), (xm.Sheet, ("autofit", "clear", "charts")),
                       (xm.Range, ("options", "get_address")), (xm.Name, ("refers_to_range",)),
                       (xm.Book, ("caller", "names", "sheets"))):
        for attr in attrs:
            assert hasattr(cls, attr), f"xlwings {cls.__name__}.{attr}"

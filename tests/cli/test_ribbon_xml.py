"""The checks Excel makes silently: the ribbon against Microsoft's customUI schema, the VBA against a grammar."""

from __future__ import annotations

from pathlib import Path

import pytest

from xl_var_cli import addin_checks, addin_vba

SCHEMAS = Path(__file__).resolve().parents[2] / ".." / "shared" / "schemas"
pytest.importorskip("antlr4_vba")


@pytest.fixture(scope="module")
def schemas() -> Path:
    if not (SCHEMAS / "customUI.xsd").is_file():
        pytest.skip("../shared/schemas (Microsoft's customUI schemas) is not available")
    pytest.importorskip("xmlschema")
    return SCHEMAS


def test_the_ribbon_validates_against_microsofts_customui_schema(schemas):
    assert addin_checks.ribbon_errors(addin_vba.RIBBON_XML.read_bytes(), schemas) == []


def test_an_invalid_ribbon_is_caught(schemas):
    xml = addin_vba.RIBBON_XML.read_bytes()
    bad = xml.replace(b'size="large" imageMso="Help"', b'size="huge" imageMso="Help"')
    assert any("huge" in e for e in addin_checks.ribbon_errors(bad, schemas))
    unknown = xml.replace(b"<ribbon>", b"<ribbon><gallery/>")
    assert addin_checks.ribbon_errors(unknown, schemas)
    other = xml.replace(b"2006/01/customui", b"2009/07/customui")  # validated against customui14.xsd
    assert addin_checks.ribbon_errors(other, schemas) == []


@pytest.mark.parametrize(("source", "target"), [
    (addin_vba.RIBBON_VBA, addin_checks.WINDOWS), (addin_vba.RIBBON_VBA, addin_checks.MAC),
    (addin_vba.EVENTS_VBA, addin_checks.WINDOWS)])
def test_our_vba_sources_parse(source, target):
    assert addin_checks.vba_syntax_errors(source.read_text(encoding="ascii"), target) == []


def test_the_generated_wrappers_parse():
    assert addin_checks.vba_syntax_errors(addin_vba.wrappers_vba()) == []


@pytest.mark.parametrize("target", [addin_checks.WINDOWS, addin_checks.MAC])
def test_the_generated_function_wizard_help_parses(target):
    assert addin_checks.vba_syntax_errors(addin_vba.help_vba(), target) == []


def test_a_broken_module_fails_the_check():
    text = addin_vba.RIBBON_VBA.read_text(encoding="ascii")
    broken = text.replace("    ScheduleTick\nEnd Sub", "    ScheduleTick\nEnd Function", 1)
    assert broken != text
    errors = addin_checks.vba_syntax_errors(broken)
    assert errors and errors[0].startswith("line ")
    assert addin_checks.vba_syntax_errors(text.replace("#End If", "", 1)) == ["an #If without #End If"]


def test_conditional_compilation_picks_one_branch():
    text = '#Const App = "Microsoft Excel" \'comment\n#If Mac Then\nA\n#ElseIf App = "Microsoft Excel" Then\nB\n' \
           "#Else\nC\n#End If\n#If Not Mac And VBA7 Then\nD\n#End If\n"
    win = addin_checks.preprocess(text, addin_checks.WINDOWS).split("\r\n")
    mac = addin_checks.preprocess(text, addin_checks.MAC).split("\r\n")
    assert [x for x in win if x] == ["B", "D"] and [x for x in mac if x] == ["A"]
    assert win.index("B") == 4 and win.index("D") == 9  # line numbers kept

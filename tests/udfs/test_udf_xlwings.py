"""xlwings' own Windows UDF machinery on Linux: what Excel's "Import Functions" would see and write.

In a subprocess (so nothing leaks into other tests), ``pythoncom``, ``pywintypes`` and
``win32com.client`` are stubbed, the real ``xlwings.udfs`` is imported, its
``xlfunc``/``xlarg``/``xlret`` replace ``xlwings.func``/``arg``/``ret`` (as on Windows),
``xl_var_udfs`` is imported fresh, and ``udfs.generate_vba_wrapper`` writes the VBA module.
"""

import inspect
import json
import re
import subprocess
import sys
import textwrap

import pytest

import xl_var_udfs as u
from xl_var_cli.addin_vba import XLWINGS_WINDOWS_STUBS

NAMES = ["AGGES", "AGGVAR", "BOOKGREEKS", "COMPONENTVAR", "CORRMATRIX", "DGVAR", "IMPLIEDVOL", "INCREMENTALVAR",
         "MARGINALVAR", "MARGINGRID", "OPTIONGREEKS", "OPTIONPRICE", "PORTMARGIN", "PORTVOL", "RETURNS", "STRESSCORR",
         "STRESSTEST", "VARBACKTEST", "XLVAR_VERSION"]
RANGES = {"returns", "weights", "corr", "returns_or_corr", "crisis", "new_position", "prices", "realized",
          "forecasts", "positions", "market", "surface", "params", "scenarios", "delta", "gamma", "cov"}
# VBA keywords and statements that cannot name a parameter of the generated wrapper.
VBA_RESERVED = set("""and as boolean byref byte byval call case close const currency date decimal declare dim do
double each else elseif empty end enum eqv erase error event exit false for friend function get global gosub goto
if imp implements in input integer is let like line lock long loop lset me mod name new next not nothing null on
open option optional or paramarray preserve print private public put raiseevent redim rem resume return rset seek
select set single static step stop string sub then to true type typeof until variant wend while width with
withevents write xor""".split())

SCRIPT = XLWINGS_WINDOWS_STUBS + textwrap.dedent(
    """
    assert "xl_var_udfs" not in sys.modules
    import xl_var_udfs
    out = {"funcs": {}}
    for attr in dir(xl_var_udfs):
        f = getattr(xl_var_udfs, attr)
        if hasattr(f, "__xlfunc__"):
            info = dict(f.__xlfunc__)
            info.pop("argmap")
            out["funcs"][attr] = info
    buf = io.StringIO()
    udfs.generate_vba_wrapper("xl_var_udfs", xl_var_udfs, buf, types.SimpleNamespace(Name="xl_var.xlam"))
    out["vba"] = buf.getvalue()
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def machinery():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_function_is_registered_in_the_xl_var_category(machinery):
    funcs = machinery["funcs"]
    assert sorted(funcs) == NAMES == sorted(u.__all__)
    for name, info in funcs.items():
        assert info["name"] == name and info["category"] == "xl-var" and not info["sub"]
        assert info["async_mode"] is None and not info["volatile"]
        assert "expand" not in info["ret"]["options"] and "convert" not in info["ret"]["options"]


def test_description_is_the_docstrings_first_paragraph_within_255_characters(machinery):
    for name, info in machinery["funcs"].items():
        first = " ".join(inspect.getdoc(getattr(u, name)).split("\n\n")[0].split())
        assert info["ret"]["doc"] == first
        assert 20 < len(first) <= 255, name


def test_arguments_docs_options_and_defaults_match_the_python_signature(machinery):
    for name, info in machinery["funcs"].items():
        params = list(inspect.signature(getattr(u, name)).parameters.values())
        assert [a["name"] for a in info["args"]] == [p.name for p in params]
        for arg, p in zip(info["args"], params, strict=True):
            assert not arg["doc"].startswith("Positional argument") and len(arg["doc"]) <= 255, (name, p.name)
            expected = {"err_to_str": True, "ndim": 2} if p.name in RANGES else {"err_to_str": True}
            assert arg["options"] == expected, (name, p.name)  # no "convert": annotations are not converters
            if p.default is inspect.Parameter.empty:
                assert "optional" not in arg
            else:
                assert arg["optional"] == p.default, (name, p.name)
            assert p.name.lower() not in VBA_RESERVED, (name, p.name)


def test_defaults_are_the_documented_ones(machinery):
    optional = {a["name"]: a["optional"] for a in machinery["funcs"]["AGGVAR"]["args"] if "optional" in a}
    assert optional == {"confidence": 0.99, "horizon": 1, "method": "historical", "corr": None, "value": None,
                        "missing": "raise", "market": None, "valuation": None, "revaluation": None,
                        "surface": None}
    optional = {a["name"]: a["optional"] for a in machinery["funcs"]["OPTIONPRICE"]["args"] if "optional" in a}
    assert optional == {"rate": 0, "settle": "usd", "valuation": None}
    optional = {a["name"]: a["optional"] for a in machinery["funcs"]["COMPONENTVAR"]["args"] if "optional" in a}
    assert optional["measure"] == "VaR" and optional["headers"] is True
    optional = {a["name"]: a["optional"] for a in machinery["funcs"]["STRESSCORR"]["args"] if "optional" in a}
    assert optional == {"intensity": 0.5, "method": "shift", "target": 1, "crisis": None, "missing": "raise"}


def test_generate_vba_wrapper_writes_a_function_for_each(machinery):
    vba = machinery["vba"]
    assert len(re.findall(r"^Function ", vba, re.M)) == len(NAMES)
    for name in NAMES:
        params = inspect.signature(getattr(u, name)).parameters.values()
        decl = ", ".join(("Optional " if p.default is not inspect.Parameter.empty else "") + p.name for p in params)
        args = ", ".join(p.name for p in params)
        assert f"\nFunction {name}({decl})\n" in "\n" + vba
        assert (f'{name} = XLPy.CallUDF("xl_var_udfs", "{name}", Array({args}), ActiveWorkbook, '
                "Application.Caller)") in vba
        assert f"    {name} = Err.Description\nEnd Function" in vba

"""The ``xl-var`` entry point: instant ``--version``/``--help``, plain help, one-line Ctrl-C anywhere."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import xl_var
from xl_var_cli.main import COMMANDS, main, plain_text

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in (".", "installer", "udfs"))}
HEAVY = ("scipy.stats", "pandas", "formulas", "openpyxl")
#: report.py (the report command) imports openpyxl at module level; every other command imports on demand.
LIGHT_COMMANDS = [c for c in COMMANDS if c != "report"]

_PARSE_ONLY = """
import sys
from xl_var_cli.main import main
for argv in {argvs!r}:
    try:
        main(argv)
    except SystemExit:
        pass
print(sorted(m for m in {heavy!r} if m in sys.modules))
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=ENV, cwd=ROOT,
                          timeout=120)


def test_version_and_help_import_nothing_heavy() -> None:
    argvs = [["--version"], ["--help"], *([c, "--help"] for c in LIGHT_COMMANDS),
             *(["addin", action, "--help"] for action in ("build", "install", "uninstall", "status"))]
    done = _python(_PARSE_ONLY.format(argvs=argvs, heavy=HEAVY))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    assert f"xl-var {xl_var.__version__}" in done.stdout


@pytest.mark.parametrize("argv", [[], *([c] for c in COMMANDS),
                                  *(["addin", action] for action in ("build", "install", "uninstall", "status"))])
def test_help_has_no_restructuredtext_markup(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "usage: xl-var" in text
    for markup in ("``", ":mod:", ":func:", ":class:", ":data:", ":attr:", ":meth:"):
        assert markup not in text, (argv, markup)


def test_plain_text() -> None:
    assert plain_text("``xl-var refresh``: see :mod:`xl_var_cli.workbook.portable_arrays`, "
                      ":class:`~xl_var_cli.errors.CliError`\n\nRun::\n\n    xl-var demo\n") == \
        "xl-var refresh: see xl_var_cli.workbook.portable_arrays, CliError\n\nRun:\n\n    xl-var demo\n"


def test_an_unknown_command_or_option_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["nonsense"], ["var", "--scenarios", "10"], ["refresh", "b.xlsx", "--weights", "w.csv"], []):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


_SLOW_IMPORT = """
import sys, time
class Slow:  # an import that takes long (scipy on a cold disk): Ctrl-C arrives during it
    def find_spec(self, name, path=None, target=None):
        if name == "xl_var_cli.var":
            print("importing", flush=True)
            time.sleep(60)
        return None
sys.meta_path.insert(0, Slow())
from xl_var_cli.main import main
sys.exit(main(["var"]))
"""


def test_ctrl_c_during_an_import_is_one_line_and_exit_130() -> None:
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_IMPORT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENV, cwd=ROOT)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "importing\n"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err == "xl-var: cancelled\n"


def test_a_closed_pipe_ends_quietly() -> None:
    """`xl-var var | head -0`: the reader is gone before the first line; no traceback, exit 141 like Unix tools."""
    proc = subprocess.Popen([sys.executable, "-m", "xl_var_cli.main", "var"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before it can have printed anything: every write meets a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert "Traceback" not in err and "Error" not in err

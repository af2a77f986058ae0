"""The README's method and revaluation tables are the registry's (xl_var.methods), row for row."""

from pathlib import Path

from xl_var.methods import REGISTRY, REVALUATIONS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _table_after(marker: str) -> list[str]:
    """The body rows of the Markdown table that follows ``marker``."""
    lines = README.split(marker, 1)[1].strip().splitlines()
    rows = []
    for line in lines[2:]:  # after the header and its separator
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_method_table_is_the_registry():
    rows = _table_after("<!-- methods table: generated from xl_var.methods.REGISTRY -->")
    want = [f"| `{m.name}` | {', '.join(m.aliases)} | {m.min_obs} | {'yes' if m.scenarios else 'no'} | {m.summary} |"
            for m in REGISTRY.values()]
    assert rows == want


def test_revaluation_table_is_the_registry():
    rows = _table_after("<!-- revaluations table: generated from xl_var.methods.REVALUATIONS -->")
    want = [f"| `{r.name}` | {', '.join(r.aliases)} | {r.summary} |" for r in REVALUATIONS.values()]
    assert rows == want

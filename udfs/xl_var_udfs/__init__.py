"""xl-var's Excel functions, for xlwings' "UDF Modules = xl_var_udfs" setting.

Importing this package exposes the worksheet functions (see :mod:`xl_var_udfs.functions` and
:mod:`xl_var_udfs.derivatives`); xlwings' Import Functions writes a VBA wrapper for each of them.
Nothing here needs Excel or Windows: the functions are plain Python callables as well.

The functions are loaded on first use (PEP 562): ``import xl_var_udfs.atomic`` or a workbook
refresh that calls none of them does not pay for the engine, scipy and xlwings. ``dir()``
lists them, which is how xlwings finds them.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    **dict.fromkeys(("BOOKGREEKS", "DGVAR", "IMPLIEDVOL", "MARGINGRID", "OPTIONGREEKS", "OPTIONPRICE", "PORTMARGIN",
                     "STRESSTEST"), "derivatives"),
    **dict.fromkeys(("AGGES", "AGGVAR", "COMPONENTVAR", "CORRMATRIX", "INCREMENTALVAR", "MARGINALVAR", "PORTVOL",
                     "RETURNS", "STRESSCORR", "VARBACKTEST", "XLVAR_VERSION"), "functions"),
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

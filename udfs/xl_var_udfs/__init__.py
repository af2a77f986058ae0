"""xl-var's Excel functions, for xlwings' "UDF Modules = xl_var_udfs" setting.

Importing this package exposes the worksheet functions (see :mod:`xl_var_udfs.functions`);
xlwings' Import Functions writes a VBA wrapper for each of them. Nothing here needs
Excel or Windows: the functions are plain Python callables as well.
"""

from __future__ import annotations

from xl_var_udfs.derivatives import (
    BOOKGREEKS,
    DGVAR,
    IMPLIEDVOL,
    MARGINGRID,
    OPTIONGREEKS,
    OPTIONPRICE,
    PORTMARGIN,
    STRESSTEST,
)
from xl_var_udfs.functions import (
    AGGES,
    AGGVAR,
    COMPONENTVAR,
    CORRMATRIX,
    INCREMENTALVAR,
    MARGINALVAR,
    PORTVOL,
    RETURNS,
    STRESSCORR,
    VARBACKTEST,
    XLVAR_VERSION,
)

__all__ = [
    "AGGES",
    "AGGVAR",
    "BOOKGREEKS",
    "COMPONENTVAR",
    "CORRMATRIX",
    "DGVAR",
    "IMPLIEDVOL",
    "INCREMENTALVAR",
    "MARGINALVAR",
    "MARGINGRID",
    "OPTIONGREEKS",
    "OPTIONPRICE",
    "PORTMARGIN",
    "PORTVOL",
    "RETURNS",
    "STRESSCORR",
    "STRESSTEST",
    "VARBACKTEST",
    "XLVAR_VERSION",
]

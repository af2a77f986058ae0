"""xl-var's own formula engine: a workbook's formulas parsed once per shape, compiled to Python
functions and calculated on demand in dependency order, with Excel's semantics.

* :mod:`~xl_var_cli.workbook.calc.operands`: the values formulas compute with, and Excel's coercions;
* :mod:`~xl_var_cli.workbook.calc.operators`: Excel's operators on them;
* :mod:`~xl_var_cli.workbook.calc.grammar`: formula text -> syntax tree, and the shape key;
* :mod:`~xl_var_cli.workbook.calc.compiler`: syntax tree -> Python function (lazy IF/IFERROR/IFS/SWITCH);
* :mod:`~xl_var_cli.workbook.calc.book`: cells calculated when read, arrays, names, tables, INDIRECT;
* :mod:`~xl_var_cli.workbook.calc.structured`: Excel tables and structured references;
* :mod:`~xl_var_cli.workbook.calc.library`: the function table (xl-var's, then ``formulas``' for the rest);
* :mod:`~xl_var_cli.workbook.calc.functions`: Excel's worksheet functions, one module per family.

:mod:`xl_var_cli.workbook.engine` runs it over an openpyxl workbook, with xl-var's own functions.
"""

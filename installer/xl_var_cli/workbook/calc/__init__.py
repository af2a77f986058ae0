"""xl-var's own formula engine: a workbook's formulas parsed once per shape, compiled to Python
closures and calculated in dependency order, with Excel's semantics.

* :mod:`~xl_var_cli.workbook.calc.operands`: the values formulas compute with and Excel's coercions;
* :mod:`~xl_var_cli.workbook.calc.functions`: Excel's worksheet functions, one module per family.
"""

"""The headless workbook engine: read an .xlsx package, recalculate it without Excel, write it back.

One entry point, :func:`xl_var_cli.workbook.pipeline.recalculate`, used by ``xl-var refresh``,
``xl-var report`` and ``xl-var demo``. The modules, from the file inwards:

* :mod:`~xl_var_cli.workbook.package`: the zip package read defensively (zip and XML bombs,
  encryption, damage refused up front) and written back with unread parts copied compressed;
* :mod:`~xl_var_cli.workbook.xmlspans`: where elements sit in an XML part, in bytes, so a part
  is edited without re-serialising it;
* :mod:`~xl_var_cli.workbook.sheet_scan`: a worksheet part's rows and cells located in one pass
  (the span scanner is the reference it falls back to);
* :mod:`~xl_var_cli.workbook.sheet_xml`: what worksheet parts store (formula kinds, cached
  values) and computed values written into them;
* :mod:`~xl_var_cli.workbook.portable_arrays`: xl-var's array results stored so that every
  spreadsheet application shows them;
* :mod:`~xl_var_cli.workbook.values`: cell values between the file, xl-var's functions and the engine;
* :mod:`~xl_var_cli.workbook.engine`: every formula of a workbook calculated, with xl-var's
  functions, spills and the cells it cannot calculate listed;
* :mod:`~xl_var_cli.workbook.calc`: the formula engine itself: grammar, compiler to Python,
  the book calculated on demand, and Excel's functions by family;
* :mod:`~xl_var_cli.workbook.cells`: a cell's key and Excel's error values (light: no engine).

Nothing is imported here: the engine is heavy, and ``cells`` must stay cheap to import.
"""

"""Excel's worksheet functions, one module per family, each exporting ``FUNCTIONS`` (name -> callable)."""

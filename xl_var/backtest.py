"""PLACEHOLDER: replaced by its owner."""
def BacktestResult(*a, **k):
    raise NotImplementedError


def backtest(*a, **k):
    raise NotImplementedError



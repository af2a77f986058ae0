"""PLACEHOLDER: replaced by its owner."""
def Decomposition(*a, **k):
    raise NotImplementedError


def IncrementalResult(*a, **k):
    raise NotImplementedError


def RiskResult(*a, **k):
    raise NotImplementedError


def component_var(*a, **k):
    raise NotImplementedError


def incremental_var(*a, **k):
    raise NotImplementedError


def portfolio_var(*a, **k):
    raise NotImplementedError


def portfolio_volatility(*a, **k):
    raise NotImplementedError



"""PLACEHOLDER: replaced by its owner."""
def monte_carlo(*a, **k):
    raise NotImplementedError


class MCResult:
    pass

"""A blank matplotlib figure without pyplot (no global state, no display needed): what every
plotting function of the package starts from."""

__all__ = ["new_figure"]


def new_figure(figsize):
    """A :class:`matplotlib.figure.Figure` of ``figsize`` inches with constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")

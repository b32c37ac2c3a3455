"""Plot helpers (matplotlib): the I-V loop and the state against time.

Both return a :class:`matplotlib.figure.Figure` built without pyplot (Agg canvas): nothing is shown,
no global backend is changed, and ``fig.savefig(path)`` writes the image.

Examples
--------
>>> import numpy as np
>>> from neurosim.devices import LinearIonDrift, simulate, plot_iv
>>> tr = simulate(LinearIonDrift(window="joglekar"), np.linspace(0, 1, 101), lambda t: np.sin(2 * np.pi * t))
>>> fig = plot_iv(tr.v, tr.current)
>>> fig.axes[0].get_xlabel()
'voltage (V)'
"""

from __future__ import annotations

from neurosim.params import check_array

__all__ = ["plot_iv", "plot_state"]


def _new_axes(figsize):
    """A figure on an Agg canvas (no pyplot, no global backend change) and its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def plot_iv(v, i, label=None, ax=None, title="I-V"):
    """Plot the current against the voltage (the pinched hysteresis loop).

    Parameters
    ----------
    v, i : array_like
        Voltage (V) and current (A) samples of one or several devices (same shape; extra
        dimensions are plotted as separate curves).
    label : str or sequence of str, optional
        Legend entries.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in (default: a new figure).
    title : str
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    v = check_array("plot_iv", "v", v, dtype=float)
    i = check_array("plot_iv", "i", i, dtype=float)
    if ax is None:
        fig, ax = _new_axes((5, 4))
    else:
        fig = ax.figure
    lines = ax.plot(v.reshape(v.shape[0], -1) if v.ndim > 1 else v, (i.reshape(i.shape[0], -1) if i.ndim > 1 else i) * 1e3)
    if label is not None:
        for line, lab in zip(lines, [label] if isinstance(label, str) else label):
            line.set_label(lab)
        ax.legend()
    ax.axhline(0, color="0.7", lw=0.5)
    ax.axvline(0, color="0.7", lw=0.5)
    ax.set_xlabel("voltage (V)")
    ax.set_ylabel("current (mA)")
    ax.set_title(title)
    return fig


def plot_state(t, state, label=None, ax=None, unit="", title="state"):
    """Plot the device state against time.

    Parameters
    ----------
    t : array_like
        Times (s).
    state : array_like
        States, first axis time (extra dimensions: one curve each).
    label : str or sequence of str, optional
        Legend entries.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in.
    unit : str
        Unit of the state for the axis label.
    title : str
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    t = check_array("plot_state", "t", t, ndim=1, dtype=float)
    s = check_array("plot_state", "state", state, dtype=float)
    if ax is None:
        fig, ax = _new_axes((5, 3))
    else:
        fig = ax.figure
    lines = ax.plot(t, s.reshape(s.shape[0], -1) if s.ndim > 1 else s)
    if label is not None:
        for line, lab in zip(lines, [label] if isinstance(label, str) else label):
            line.set_label(lab)
        ax.legend()
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"state ({unit})" if unit else "state")
    ax.set_title(title)
    return fig

"""Plot helpers return a Figure with the data drawn (Agg backend, nothing shown)."""

import numpy as np
from matplotlib.figure import Figure

from neurosim.devices import LinearIonDrift, plot_iv, plot_state, simulate


def test_plot_iv_and_state_draw_the_waveforms():
    tr = simulate(LinearIonDrift(window="joglekar"), np.linspace(0, 2, 401), lambda t: np.sin(2 * np.pi * t))
    fig = plot_iv(tr.v, tr.current, label="HP")
    assert isinstance(fig, Figure)
    line = fig.axes[0].lines[0]
    assert np.allclose(line.get_xdata(), tr.v) and np.allclose(line.get_ydata(), tr.current * 1e3)  # mA
    assert fig.axes[0].get_legend() is not None
    fig2 = plot_state(tr.t, tr.state, unit="1")
    assert np.allclose(fig2.axes[0].lines[0].get_ydata(), tr.state)
    assert fig2.axes[0].get_xlabel() == "time (s)"


def test_plot_several_devices_one_curve_each():
    m = LinearIonDrift(window="joglekar", initial_state=np.array([0.2, 0.5, 0.8]))
    tr = simulate(m, np.linspace(0, 1, 201), lambda t: np.sin(2 * np.pi * t))
    assert tr.state.shape == (201, 3)
    fig = plot_iv(tr.v, tr.current, label=["a", "b", "c"])
    assert [ln.get_label() for ln in fig.axes[0].lines if not ln.get_label().startswith("_")] == ["a", "b", "c"]

"""Accuracy over deployment time: the curves of :func:`neurosim.study.compare` with ``times``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurosim.errors import ParameterError

__all__ = ["deployment_table", "plot_deployment"]


def _data(result) -> dict:
    data = result.deployment if hasattr(result, "deployment") else result
    if not isinstance(data, dict) or "output_rmse" not in data:
        raise ParameterError("plot_deployment: result must be a Comparison from compare(..., times=...) or its "
                             f"deployment dict, got {type(result).__name__}")
    return data


def deployment_table(result) -> str:
    r"""The deployment errors as text: per setting and time, mean and standard deviation over seeds.

    .. math:: \bar e(t) = \tfrac{1}{S}\textstyle\sum_s e_s(t), \qquad
              \mathrm{sd}(t) = \sqrt{\tfrac{1}{S-1}\textstyle\sum_s (e_s(t) - \bar e(t))^2}

    Examples
    --------
    >>> d = {"times": np.array([1.0]), "seeds": [0], "settings": ["none"], "output_rmse": {"none": np.array([[0.5]])},
    ...      "task_error": None, "task_metric": None}
    >>> print(deployment_table(d))
    setting  time_s  output_rmse_mean  output_rmse_sd
    none          1               0.5               0
    """
    d = _data(result)
    head = ["setting", "time_s", "output_rmse_mean", "output_rmse_sd"]
    if d["task_error"] is not None:
        head += [f"{d['task_metric']}_mean", f"{d['task_metric']}_sd"]
    rows = []
    for name in d["settings"]:
        for i, t in enumerate(d["times"]):
            row = [name, f"{t:g}"]
            arrays = [d["output_rmse"][name]] + ([d["task_error"][name]] if d["task_error"] is not None else [])
            for a in arrays:
                v = a[i]
                row += [f"{np.mean(v):.6g}", f"{np.std(v, ddof=1) if v.size > 1 else 0.0:.6g}"]
            rows.append(row)
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) if k == 0 else h.rjust(w) for k, (h, w) in enumerate(zip(head, widths)))]
    lines += ["  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def plot_deployment(result, path=None):
    """Output error (and task error) against the time since programming, one curve per setting.

    Each curve is the mean over device seeds with a band of one standard deviation; the time axis
    is logarithmic beyond 1 s (symlog, so ``t = 0`` is shown).

    Parameters
    ----------
    result : Comparison or dict
        :func:`~neurosim.study.compare` run with ``times`` (or its ``deployment``).
    path : str or path-like, optional
        Write a PNG there.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ParameterError
        ``result`` has no deployment data.

    Examples
    --------
    >>> d = {"times": np.array([0.0, 60.0]), "seeds": [0, 1], "settings": ["none"],
    ...      "output_rmse": {"none": np.array([[0.1, 0.2], [0.3, 0.2]])}, "task_error": None, "task_metric": None}
    >>> len(plot_deployment(d).axes)
    1
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = _data(result)
    panels = [("output_rmse", "output RMSE (analog - digital)")]
    if d["task_error"] is not None:
        panels.append(("task_error", d["task_metric"].replace("_", " ")))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 3.6), squeeze=False)
    t = np.asarray(d["times"], dtype=float)
    for ax, (key, label) in zip(axes[0], panels):
        for name in d["settings"]:
            a = np.asarray(d[key][name], dtype=float)
            mean = a.mean(axis=1)
            sd = a.std(axis=1, ddof=1) if a.shape[1] > 1 else np.zeros_like(mean)
            line, = ax.plot(t, mean, marker="o", label=f"compensation: {name}")
            ax.fill_between(t, mean - sd, mean + sd, color=line.get_color(), alpha=0.2)
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xlabel("time since programming (s)")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{len(d['seeds'])} device seed(s), mean +- 1 sd")
    fig.tight_layout()
    if path is not None:
        fig.savefig(Path(path), dpi=110)
    return fig

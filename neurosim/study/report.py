"""Report writer: a comparison as JSON numbers and PNG plots (matplotlib, Agg backend)."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np

from neurosim.errors import ParameterError

__all__ = ["save_report"]


def _finite_json(value):
    """JSON has no NaN/inf: write them as null so every reader can parse the file."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_json(v) for v in value]
    return value


def _rolling(e: np.ndarray, w: int):
    """Centred rolling mean, min and max over ``w`` steps (edges use the available points)."""
    from numpy.lib.stride_tricks import sliding_window_view

    pad = np.pad(e, (w // 2, w - 1 - w // 2), mode="edge")
    win = sliding_window_view(pad, w)
    return win.mean(axis=1), win.min(axis=1), win.max(axis=1)


def save_report(comparison, directory) -> dict:
    """Write ``comparison.json`` and three PNG figures into ``directory`` (created if missing).

    Figures: ``error_vs_step.png`` (hidden and output RMSE and max per step, and per layer),
    ``traces.png`` (analog vs digital output of batch entry 0, with the target, and the analog output
    of the hardware-aware-trained network when there is one),
    ``error_per_gate.png`` (relative crossbar read error per weight and gate block).
    The JSON holds every number of the comparison (no timings or dates), so the same seed gives
    byte-identical JSON.

    .. math:: \\text{report} = \\{\\mathrm{RMSE}_t, \\max_t, \\lambda, \\text{metric}, E, t\\}

    Parameters
    ----------
    comparison : Comparison
        From :func:`neurosim.compare`.
    directory : str or path-like
        Output folder.

    Returns
    -------
    dict of str to pathlib.Path
        ``{"json": ..., "error_vs_step": ..., "traces": ..., "error_per_gate": ..., "html": ...}``;
        ``report.html`` is self-contained (tables, figures inline, the hardware configuration).

    Raises
    ------
    ParameterError
        ``directory`` exists and is not a folder, or cannot be created.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from neurosim.cells import RNN
    >>> from neurosim.study import compare
    >>> result = compare(RNN(2, 3, dtype=np.float64, seed=0), None, np.zeros((5, 1, 2)))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     sorted(save_report(result, tmp))
    ['error_per_gate', 'error_vs_step', 'html', 'json', 'traces']
    """
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (OSError, FileExistsError) as exc:
        raise ParameterError(f"save_report: directory {str(out)!r} cannot be created: {exc}") from exc
    data = _finite_json(comparison.to_dict())
    paths = {"json": out / "comparison.json"}
    paths["json"].write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")

    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    steps = np.arange(len(comparison.step_hidden_rmse))
    tiny = np.finfo(float).tiny

    # 1. error vs step: one panel per quantity, the raw per-step values faint, a rolling mean over
    # ~5 % of the sequence bold and the rolling min..max as a band (four noisy lines on one log axis
    # were unreadable)
    panels = [("hidden RMSE", comparison.step_hidden_rmse), ("hidden max |error|", comparison.step_hidden_max),
              ("output RMSE", comparison.step_output_rmse), ("output max |error|", comparison.step_output_max)]
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5), sharex=True)
    for ax, (name, err) in zip(axes.ravel(), panels + [("per layer / direction", None)]):
        series = [(name, err)] if err is not None else [(k, v) for k, v in comparison.layer_step_rmse.items()]
        for label, e in series:
            e = np.asarray(e, dtype=float) + tiny
            mean, lo, hi = _rolling(e, max(1, len(e) // 20))
            line = ax.semilogy(steps, mean, lw=1.8, label=f"{label} (rolling mean)" if err is None else "rolling mean")[0]
            ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.2, lw=0,
                            label="rolling min..max" if err is not None else None)
            if err is not None:
                ax.semilogy(steps, e, color=line.get_color(), lw=0.5, alpha=0.35, label="per step")
        ax.set(title=name, xlabel="time step", ylabel="|analog - digital|")
        ax.legend(fontsize=7)
    axes.ravel()[-1].axis("off")
    fig.tight_layout()
    paths["error_vs_step"] = out / "error_vs_step.png"
    fig.savefig(paths["error_vs_step"], dpi=90)
    plt.close(fig)

    # 2. traces
    tr = comparison.traces
    k = tr["digital"].shape[1]
    fig, axes = plt.subplots(k, 1, figsize=(10, 2.2 * k), squeeze=False)
    scored = np.asarray(tr.get("scored", np.ones(len(steps), bool)), dtype=bool)
    for j in range(k):
        a = axes[j, 0]
        if "target" in tr:
            a.plot(steps, tr["target"][:, j], color="0.7", lw=3, label="target")
        a.plot(steps, tr["digital"][:, j], label="digital")
        a.plot(steps, tr["analog"][:, j], "--", label="analog" if "analog_hwa" not in tr else "analog, plain training")
        if "analog_hwa" in tr:
            a.plot(steps, tr["analog_hwa"][:, j], ":", label="analog, hardware-aware training")
        a.set(ylabel=f"output {j}")
        if scored.any() and not scored.all():
            # unscored steps (washout) are shaded and left out of the axis range: start-up
            # transients of an untrained state would otherwise squash the scored part
            a.fill_between(steps, 0, 1, where=~scored, color="0.9", transform=a.get_xaxis_transform(), label="not scored")
            ref = [tr[key][scored, j] for key in ("target", "digital") if key in tr]
            lo, hi = min(float(r.min()) for r in ref), max(float(r.max()) for r in ref)
            pad = 0.15 * (hi - lo) + 1e-12
            a.set_ylim(lo - pad, hi + pad)
    axes[0, 0].legend(fontsize=8, loc="upper right")
    axes[0, 0].set_title("analog vs digital (batch entry 0)")
    axes[-1, 0].set_xlabel("time step")
    fig.tight_layout()
    paths["traces"] = out / "traces.png"
    fig.savefig(paths["traces"], dpi=90)
    plt.close(fig)

    # 3. error per weight / gate
    labels, values = [], []
    for name, gates in comparison.read_error.items():
        for gate, e in gates.items():
            labels.append(name if gate == "all" else f"{name}[{gate}]")
            values.append(e["relative"])
    fig, ax = plt.subplots(figsize=(max(5, 0.6 * len(labels) + 2), 4))
    ax.bar(range(len(labels)), values)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set(ylabel="relative read error", title="crossbar read error per weight / gate")
    fig.tight_layout()
    paths["error_per_gate"] = out / "error_per_gate.png"
    fig.savefig(paths["error_per_gate"], dpi=90)
    plt.close(fig)

    # 4. one self-contained HTML file: the tables, the figures inline, the hardware configuration
    from neurosim.study.html import html_page, png_tag, table_html

    summary = [line.split(None, 1) for line in comparison.table().splitlines()]
    gates = [[name if gate == "all" else f"{name}[{gate}]", float(e["rmse"]), float(e["relative"])]
             for name, gs in comparison.read_error.items() for gate, e in gs.items()]
    div = [[k, "-" if v is None else v] for k, v in comparison.divergence.items()]
    hw = "\n".join(f"{k} = {v!r}" for k, v in comparison.hardware.items())
    sections = [("Summary", table_html(summary, ["quantity", "value"]))]
    if comparison.training is not None:
        t = comparison.training
        name = t["metric"]
        rows = [[r["weights"], r["execution"], float(r[name])] for r in t["rows"]]
        rec = "-" if t["recovered"] is None else f"{100 * t['recovered']:.0f} %"
        sections.append(("Hardware-aware training", table_html(rows, ["weights", "execution", name])
                         + f"<p>Analog gap (plain weights): {t['gap']:.4g}; hardware-aware training recovers "
                           f"{html.escape(rec)} of it.</p>"))
    sections += [
        ("Error vs time step", png_tag(paths["error_vs_step"], "error vs time step")),
        ("Outputs, digital and analog", png_tag(paths["traces"], "output traces")),
        ("Crossbar read error per weight and gate", table_html(gates, ["weight", "RMSE", "relative RMSE"])
         + png_tag(paths["error_per_gate"], "read error per gate")),
        ("Divergence", table_html(div, ["quantity", "value"])),
        ("Cell and hardware", f"<p>{html.escape(comparison.cell)}</p><pre>{html.escape(hw)}</pre>"),
    ]
    paths["html"] = out / "report.html"
    paths["html"].write_text(html_page("neurosim comparison: analog vs digital", sections), encoding="utf-8")
    return paths

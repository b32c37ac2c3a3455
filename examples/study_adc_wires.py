"""A hardware-design study: the ADC bits at which an LSTM's task error doubles, against wire resistance.

Runs examples/study_adc_wires.toml (an LSTM reservoir + ridge readout on Mackey-Glass, crossbars in
`circuit` mode with 1 % read noise; ADC bits x wire resistance x 3 device seeds = 60 runs) on a local
process pool into an SQLite file (re-running resumes), prints the mean NRMSE with its spread over
device seeds, the smallest ADC resolution that keeps the error within twice the digital one for each
wire resistance, and draws the curves. Run: python examples/study_adc_wires.py [output.png]
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

import neurosim

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":  # the process pool re-imports this file in its workers
    out_png = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory() as tmp:
        result = neurosim.run_study(HERE / "study_adc_wires.toml", Path(tmp) / "study.sqlite", executor="process")
    rows = [r for r in result.rows if r["status"] == "ok"]
    digital = rows[0]["nrmse_digital"]
    bits = sorted({r["adc_bits"] for r in rows})
    wires = sorted({r["crossbar_options.r_wire"] for r in rows})
    print(f"digital NRMSE {digital:.4f}; analog NRMSE, mean ± std over device seeds:")
    print("r_wire (ohm) " + "".join(f"{str(b) + ' bit':>14}" for b in bits) + "   bits for <= 2x digital")
    curves = {}
    for w in wires:
        stats = []
        for b in bits:
            v = np.array([r["nrmse_analog"] for r in rows if r["adc_bits"] == b and r["crossbar_options.r_wire"] == w])
            stats.append((v.mean(), v.std(ddof=1)))
        curves[w] = np.array(stats)
        enough = [b for b, (m, _) in zip(bits, stats) if m <= 2 * digital]
        print(f"{w:>12.1f} " + "".join(f"{m:.3f} ± {s:.3f}".rjust(14) for m, s in stats)
              + f"   {min(enough) if enough else 'more than ' + str(max(bits))}")
    assert len(rows) == result.study.n_runs  # every run finished
    # more ADC bits always help, and at 10 bits the wire-less array is within 10 % of digital + 5 %
    assert all(curves[w][-1, 0] < curves[w][0, 0] / 5 for w in wires)
    assert curves[0.0][-1, 0] < 1.1 * digital + 0.05
    if out_png is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for w, st in curves.items():
            ax.semilogy(bits, st[:, 0], "o-", label=f"r_wire {w:g} Ω")
            ax.fill_between(bits, st[:, 0] - st[:, 1], st[:, 0] + st[:, 1], alpha=0.2)
        ax.axhline(2 * digital, color="k", ls="--", lw=1, label="2 × digital NRMSE")
        ax.axhline(digital, color="k", ls=":", lw=1, label="digital NRMSE")
        ax.set(xlabel="ADC bits", ylabel="NRMSE (Mackey-Glass, one step ahead)",
               title="LSTM on crossbars: ADC bits vs wire resistance (3 device seeds)", )
        ax.title.set_fontsize(10)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out_png, dpi=110)
        print(f"plot: {out_png}")

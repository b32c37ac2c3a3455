"""The ``neurosim`` command: a thin layer over the public API.

``neurosim compare`` runs the main job: train a small LSTM by BPTT on a benchmark task twice (plainly,
and hardware-aware on the simulated hardware), map both to crossbars, run them digitally and on the
hardware, print the three rows (digital; analog with plain weights; analog with hardware-aware
weights), a summary table, and write a report (JSON + PNG + HTML). ``--method reservoir`` keeps the
closed-form alternative (random reservoir + ridge readout). Every number derives from ``--seed``.

``neurosim sweep STUDY.toml`` runs a study (sweeps and Monte Carlo over the hardware, see
:mod:`neurosim.study.spec`) into an SQLite result file, resuming where a previous run stopped;
``--dry-run`` prints the number of runs and an estimated time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from neurosim.errors import NeurosimError
from neurosim.params import Param, check_params

__all__ = ["main", "build_parser"]

DEFAULT_DEVICE = "rram_softbounds_gong2018"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``neurosim`` command (sub-command ``compare``)."""
    from neurosim.study.pipeline import CELL_KINDS
    from neurosim.tasks import TASKS

    parser = argparse.ArgumentParser(prog="neurosim", description="Memristive and neuromorphic hardware simulator.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    c = sub.add_parser(
        "compare",
        help="run a network digitally and on simulated crossbars and report where they diverge",
        description=(
            "Train a small recurrent network (default: an LSTM) by BPTT on a benchmark task, plainly and "
            "hardware-aware (the forward pass on the simulated hardware, straight-through gradients), map its "
            "weights to crossbars, run the test sequence digitally and on the hardware, print the rows digital / "
            "analog with plain weights / analog with hardware-aware weights and a summary table, and write "
            "comparison.json, report.html and PNG plots to --out. --method reservoir trains a random reservoir's "
            "ridge readout in closed form instead."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    c.add_argument("--method", choices=("bptt", "reservoir"), default="bptt",
                   help="training: BPTT, plain and hardware-aware (three rows); or a random reservoir with a ridge readout")
    c.add_argument("--cell", choices=CELL_KINDS, default=None, help="recurrent cell (default: lstm for bptt, rnn for reservoir)")
    c.add_argument("--hidden", type=int, default=None, help="hidden units (default: 16 for bptt, 64 for reservoir)")
    c.add_argument("--epochs", type=int, default=100, help="bptt: training epochs (Adam) over 32 sequences")
    c.add_argument("--hwa-epochs", type=int, default=20,
                   help="bptt: the last epochs, run plainly for one network and hardware-aware for the other")
    c.add_argument("--task", choices=sorted(TASKS), default="mackey_glass",
                   help="benchmark task (digits needs scikit-learn, optional)")
    c.add_argument("--alpha", type=float, default=1e-2,
                   help="reservoir: ridge penalty of the readout; larger values make it less sensitive to analog state errors")
    c.add_argument("--steps", type=int, default=500,
                   help="length of the compared test sequence (the copy task's delay); training uses max(steps, 1000)")
    c.add_argument("--device", default=DEFAULT_DEVICE,
                   help="device card name (devices/*.toml) or path; 'ideal' for an ideal linear conductance")
    c.add_argument("--read-mode", choices=("ideal", "device", "circuit"), default="device",
                   help="crossbar read mode: exact conductances / + device non-idealities and converters / + wires (MNA)")
    c.add_argument("--dac-bits", type=int, default=None,
                   help="DAC resolution incl. sign; 0 = ideal converter (default: 6 for bptt, 8 for reservoir)")
    c.add_argument("--adc-bits", type=int, default=None,
                   help="ADC resolution incl. sign; 0 = ideal converter (default: 6 for bptt, 8 for reservoir)")
    c.add_argument("--read-noise", type=float, default=0.0,
                   help="per-device relative read noise (rms, fraction of each cell current), drawn every read")
    c.add_argument("--adc-noise", type=float, default=0.0,
                   help="readout (TIA + ADC) input-referred noise, rms, fraction of the ADC full scale, drawn every conversion")
    c.add_argument("--state-bits", type=int, default=0, help="hidden-state storage ADC bits; 0 = sample-and-hold (exact)")
    c.add_argument("--activation", choices=("ideal", "amplifier", "pwl"), default="ideal",
                   help="activation circuits: exact, saturating amplifier, piecewise linear")
    c.add_argument("--tile", type=int, default=128, help="tile size (rows = columns)")
    c.add_argument("--hardware", type=Path, default=None,
                   help="HardwareConfig TOML file; overrides --device/--read-mode/--*-bits/--*-noise/--activation/--tile")
    c.add_argument("--weights", type=Path, default=None,
                   help=".npz state_dict to load into the cell (PyTorch names): the reservoir, or bptt's initial weights")
    c.add_argument("--seed", type=int, default=0, help="root seed of data, weights and hardware randomness")
    c.add_argument("--out", type=Path, default=Path("report"), help="report directory")

    w = sub.add_parser(
        "sweep",
        help="run a study file (sweeps, Monte Carlo) into an SQLite result database, resumable",
        description=(
            "Run every run of a study file (grid axes, random samples, Monte Carlo repeats over device seeds) "
            "that is not yet in the result database; each run is an analog vs digital comparison. A killed "
            "study resumes where it stopped."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    w.add_argument("study", type=Path, help="study file (TOML)")
    w.add_argument("--db", type=Path, default=None, help="SQLite result file (default: the study file with .sqlite)")
    w.add_argument("--executor", choices=("serial", "process", "dask"), default="process", help="where runs execute")
    w.add_argument("--workers", type=int, default=None, help="processes of the local pool (default: CPUs available)")
    w.add_argument("--scheduler", default=None, help="Dask scheduler address (executor dask), e.g. tcp://host:8786")
    w.add_argument("--dry-run", action="store_true", help="print the number of runs and an estimated time, run nothing")
    w.add_argument("--yes", action="store_true", help="accept a study of more than its max_runs runs")
    w.add_argument("--plot", default=None, metavar="METRIC", help="write PNG plots of this metric next to the database")
    w.add_argument("--csv", type=Path, default=None, help="also export the results as CSV")
    return parser


def _hardware(args, input_range: float):
    from neurosim.analog import HardwareConfig
    from neurosim.devices import ReadNoise

    if args.hardware is not None:
        return HardwareConfig.from_toml(args.hardware)
    bits = {n: (None if v == 0 else v) for n, v in (("dac", args.dac_bits), ("adc", args.adc_bits), ("state", args.state_bits))}
    return HardwareConfig(
        device=None if args.device in ("ideal", "none", "") else args.device,
        tile_rows=args.tile, tile_cols=args.tile, read_mode=args.read_mode,
        dac_bits=bits["dac"], adc_bits=bits["adc"], state_bits=bits["state"],
        activation=args.activation, input_range=input_range, seed=args.seed, adc_noise=args.adc_noise,
        nonidealities=(ReadNoise(args.read_noise),) if args.read_noise != 0 else (),  # ReadNoise checks the value
    )


def _compare(args) -> int:
    from neurosim.study import compare
    from neurosim.study.pipeline import make_cell, make_task, train_bptt, train_network

    t0 = time.perf_counter()
    # options of the other method are still checked: a bad value is never silently ignored
    check_params("neurosim compare", {"alpha": Param("real", low=0.0, unit="")}, {"alpha": args.alpha})
    bptt = args.method == "bptt"
    args.cell = args.cell or ("lstm" if bptt else "rnn")
    args.hidden = args.hidden if args.hidden is not None else (16 if bptt else 64)
    for name in ("dac_bits", "adc_bits"):
        if getattr(args, name) is None:
            setattr(args, name, 6 if bptt else 8)
    if bptt:
        return _compare_bptt(args, t0)
    train = make_task(args.task, max(args.steps, 1000) if args.task in ("narma10", "mackey_glass", "sine") else args.steps,
                      seed=args.seed, batch_size=256 if args.task in ("adding", "copy") else None)
    test = make_task(args.task, args.steps, seed=args.seed + 1)
    cell = make_cell(args.cell, train.n_inputs, args.hidden, output_size=train.n_outputs, seed=args.seed)
    if args.weights is not None:
        cell.load(args.weights)
    net = train_network(cell, train, alpha=args.alpha)
    input_range = float(max(np.max(np.abs(train.inputs)), np.max(np.abs(test.inputs)), 1e-12))
    hw = _hardware(args, input_range)
    result = compare(net.cell, hw, test.inputs, test.targets, readout=net.readout, mask=test.mask, kind=test.kind)
    paths = result.save_report(args.out)
    hw.to_toml(Path(args.out) / "hardware.toml")
    elapsed = time.perf_counter() - t0
    metric = "NRMSE" if test.kind == "regression" else "accuracy"
    print(f"neurosim compare: {args.cell} (hidden {args.hidden}) on {args.task}, {test.n_steps} steps x {test.batch_size}")
    print(f"hardware: device={hw.device or 'ideal'} mode={hw.read_mode} dac={hw.dac_bits} adc={hw.adc_bits} "
          f"adc_noise={hw.adc_noise} nonidealities={[type(n).__name__ for n in hw.nonidealities]} state={hw.state_bits} activation={hw.activation} seed={hw.seed}")
    print(f"training ({metric}, digital): {net.train_metric:.4g}")
    print(result.table())
    print(f"report: {paths['json'].parent}  ({', '.join(p.name for p in paths.values())}, hardware.toml)  [{elapsed:.1f} s]")
    return 0


def _compare_bptt(args, t0) -> int:
    """The main job with BPTT: plain and hardware-aware training, three rows."""
    from neurosim.study import compare
    from neurosim.study.pipeline import make_cell, make_task, train_bptt

    series = args.task in ("narma10", "mackey_glass", "sine")
    # training: 32 sequences (100 steps for the series tasks; the test length otherwise)
    train = make_task(args.task, 100 if series else args.steps, seed=args.seed, batch_size=32)
    test = make_task(args.task, args.steps, seed=args.seed + 1)
    cell = make_cell(args.cell, train.n_inputs, args.hidden, output_size=train.n_outputs, seed=args.seed)
    if args.weights is not None:
        cell.load(args.weights)
    input_range = float(max(np.max(np.abs(train.inputs)), np.max(np.abs(test.inputs)), 1e-12))
    hw = _hardware(args, input_range)
    pair = train_bptt(cell, train, hw, epochs=args.epochs, hwa_epochs=args.hwa_epochs, seed=args.seed)
    result = compare(pair.plain.cell, hw, test.inputs, test.targets, readout=pair.plain_readout, mask=test.mask,
                     kind=test.kind, hwa_cell=pair.hwa.cell, hwa_readout=pair.hwa_readout)
    paths = result.save_report(args.out)
    hw.to_toml(Path(args.out) / "hardware.toml")
    elapsed = time.perf_counter() - t0
    metric = "NRMSE" if test.kind == "regression" else "accuracy"
    print(f"neurosim compare: {args.cell} (hidden {args.hidden}) trained by BPTT on {args.task} "
          f"({args.epochs} epochs, the last {args.hwa_epochs} hardware-aware: {pair.seconds:.1f} s), "
          f"{test.n_steps} test steps x {test.batch_size}")
    print(f"hardware: device={hw.device or 'ideal'} mode={hw.read_mode} dac={hw.dac_bits} adc={hw.adc_bits} "
          f"adc_noise={hw.adc_noise} nonidealities={[type(n).__name__ for n in hw.nonidealities]} state={hw.state_bits} activation={hw.activation} seed={hw.seed}")
    print(f"training ({metric}, digital): {pair.train_metric:.4g}")
    print(result.training_table())
    print(result.table())
    print(f"report: {paths['json'].parent}  ({', '.join(p.name for p in paths.values())}, hardware.toml)  [{elapsed:.1f} s]")
    return 0


def _sweep(args) -> int:
    from neurosim.study.spec import load_study
    from neurosim.study.sweep import estimate, run_study

    study = load_study(args.study, yes=args.yes)
    db = args.db if args.db is not None else args.study.with_suffix(".sqlite")
    if args.dry_run:
        e = estimate(study, db, workers=1 if args.executor == "serial" else args.workers)
        print(f"neurosim sweep: study {study.name!r}: {e['runs']} runs, {e['pending']} to run "
              f"(one run {e['seconds_per_run']:.3g} s, {e['workers']} worker(s)): about {e['estimated_seconds']:.3g} s")
        return 0
    t0 = time.perf_counter()
    result = run_study(study, db, executor=args.executor, workers=args.workers, scheduler=args.scheduler, yes=args.yes)
    failed = sum(r["status"] == "failed" for r in result.rows)
    print(f"neurosim sweep: study {study.name!r}: {len(result.rows)} of {study.n_runs} runs recorded in {db} "
          f"({failed} failed) [{time.perf_counter() - t0:.1f} s]")
    if args.csv is not None:
        print(f"csv: {result.to_csv(args.csv)}")
    if args.plot:
        folder = Path(db).parent / f"{study.name}_plots"
        paths = result.plot(args.plot, folder)
        print("plots: " + ", ".join(str(p) for p in paths.values()) + f"; report: {result.save_html(args.plot, folder)}")
    return 0 if failed == 0 else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neurosim`` command; returns the process exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 when a study recorded failed runs, 2 on a usage or parameter error
        (message on stderr).

    Examples
    --------
    >>> main(["--help"])  # doctest: +ELLIPSIS
    usage: neurosim ...
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or a usage error: argparse already printed
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return _sweep(args) if args.command == "sweep" else _compare(args)
    except NeurosimError as exc:
        print(f"neurosim {args.command}: error: {exc}", file=sys.stderr)
        return 2

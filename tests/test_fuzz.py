"""Fuzz suite: every input family a user hands neurosim, under one harness.

Each case must end, within its time limit, in one of three outcomes: a ``NeurosimError`` whose
message names the input (the CLI: exit status 2 and one ``error:`` line on stderr, no traceback),
a correct result (checked against an independent reference where there is one), or a documented
refusal. The families with their own seeded mutation fuzzers live beside the defects they came
from (``test_robustness.py``: decks, cards, weight files, configs; ``test_spice_fuzz.py``;
``test_solve_conditioning.py``: stiff networks); this file adds the command line, TOML text as the
writer emits it, random nonlinear circuits and random hardware configurations, and a census that
every family is covered.
"""

import contextlib
import io
import math
import os
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosim.errors import ConvergenceError, NeurosimError, ParameterError


@contextlib.contextmanager
def within(seconds):
    t0 = time.perf_counter()
    yield
    elapsed = time.perf_counter() - t0
    assert elapsed < seconds, f"took {elapsed:.2f} s (limit {seconds} s)"


# ------------------------------------------------------------------------------------- command line
_BAD = {
    "--hidden": ["0", "-3", "abc", "1e3", "99999999999999999999", "1000000000"],
    "--steps": ["0", "-1", "x", "10000000000"],
    "--alpha": ["-1", "nan", "inf", "abc"],
    "--dac-bits": ["-1", "65", "x"],
    "--adc-bits": ["-2", "99"],
    "--read-noise": ["-0.1", "nan", "inf"],
    "--adc-noise": ["-1", "nan"],
    "--state-bits": ["-1", "200"],
    "--tile": ["0", "-8", "1.5"],
    "--seed": ["-1", "x", "1.5"],
    "--cell": ["transformer", ""],
    "--method": ["sgd"],
    "--epochs": ["0", "-1", "x"],
    "--hwa-epochs": ["-1", "x"],
    "--task": ["imagenet"],
    "--read-mode": ["quantum"],
    "--activation": ["softmax"],
    "--device": ["no_such_card", "/dev/zero", "{dir}", "{fifo}", "{binary}"],
    "--hardware": ["/nonexistent.toml", "/dev/zero", "{dir}", "{fifo}", "{binary}", "{badtoml}"],
    "--weights": ["/nonexistent.npz", "{dir}", "{binary}", "{fifo}"],
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    fifo = root / "fifo"
    os.mkfifo(fifo)
    binary = root / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 8)
    badtoml = root / "hw.toml"
    badtoml.write_text('read_mode = "device"\ncrossbar_options = { r_wyre = 1.0 }\n')
    return {"dir": str(root), "fifo": str(fifo), "binary": str(binary), "badtoml": str(badtoml)}


def _run_cli(argv):
    from neurosim.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse inside main returns; anything else escaping is a defect
            code = exc.code
    return code, err.getvalue()


def test_cli_arguments_fuzz(files, tmp_path):
    """One bad value per case on top of a small valid run: exit 2 with a message naming the option."""
    rng = np.random.default_rng(17)
    cases = [(opt, val) for opt, vals in _BAD.items() for val in vals]
    rng.shuffle(cases)
    for opt, val in cases:
        val = val.format(**files)
        argv = ["compare", "--hidden", "4", "--steps", "40", "--epochs", "2", "--hwa-epochs", "1", "--out", str(tmp_path / "r"), opt, val]
        with within(20.0):
            code, err = _run_cli(argv)
        assert code == 2, (opt, val, code, err[-400:])
        assert "Traceback" not in err, (opt, val, err[-800:])
        lines = [ln for ln in err.splitlines() if "error:" in ln]
        assert lines, (opt, val, err)
        assert len(err) < 3000, (opt, val)


def test_cli_study_files_fuzz(tmp_path):
    """Random mutations of a valid study file: a dry run ends in 0 or an error naming file and line."""
    text = (
        "[study]\nname = \"fuzz\"\nmax_runs = 50\n\n[network]\ncell = \"rnn\"\nhidden = 4\n\n"
        "[task]\nname = \"mackey_glass\"\nsteps = 40\n\n[hardware]\nread_mode = \"device\"\n\n"
        "[sweep]\n\"hardware.adc_bits\" = [4, 8]\n"
    )
    path = tmp_path / "study.toml"
    path.write_text(text)
    code, err = _run_cli(["sweep", str(path), "--dry-run", "--db", str(tmp_path / "s.sqlite")])
    assert code == 0, err
    rng = np.random.default_rng(5)
    alphabet = list('[]="\n#.,{}0123456789-e ') + ["hidden", "sweep", "nan", "1e999", "\x00", "é"]
    refused = 0
    for k in range(120):
        chars = list(text)
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(len(chars)))
            chars[i] = alphabet[int(rng.integers(len(alphabet)))]
        path.write_text("".join(chars))
        with within(10.0):
            code, err = _run_cli(["sweep", str(path), "--dry-run", "--db", str(tmp_path / f"s{k}.sqlite")])
        assert code in (0, 2), err[-600:]
        assert "Traceback" not in err
        if code == 2:
            refused += 1
            assert "study.toml" in err, err[-600:]
    assert refused >= 40


# ------------------------------------------------------------------------------------- TOML round trip
_keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
_scalars = st.one_of(
    st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
)
_tables = st.recursive(
    st.dictionaries(_keys, st.one_of(_scalars, st.lists(_scalars, max_size=3)), max_size=4),
    lambda inner: st.dictionaries(_keys, st.one_of(_scalars, inner, st.lists(inner, min_size=1, max_size=2)), max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tables)
def test_toml_writer_round_trips_any_table(data):
    import tomllib

    from neurosim.config import dumps

    assert tomllib.loads(dumps(data)) == data


def test_toml_writer_refuses_what_toml_cannot_hold():
    from neurosim.config import dumps

    for bad in ({"x": math.nan}, {"x": [1.0, math.inf]}, {"t": {"x": object()}}):
        with pytest.raises(ParameterError, match="TOML writer"):
            dumps(bad)


# ------------------------------------------------------------------------------------- nonlinear circuits
def _random_nonlinear(seed):
    """Resistor trees with diodes, switches-free, ohmic and sinh memristors, sources up to 1e4 V."""
    from neurosim.devices import load_device
    from neurosim.netlist import Netlist

    rng = np.random.default_rng(seed)
    net = Netlist("fuzz")
    branches = []  # (element, node it leaves, node it enters)
    n = int(rng.integers(3, 9))
    cards = [load_device(c) for c in ("hp_tio2_strukov2008", "yakopcic_oblea2011", "vteam_kvatinsky2015")]
    for k in range(1, n + 1):
        j = int(rng.integers(0, k))
        a, b = f"n{k}", ("0" if j == 0 else f"n{j}")
        kind = rng.integers(0, 4)
        r = float(10 ** rng.uniform(-3, 9))
        net.add_resistor(f"R{k}", a, b, r)
        branches.append((f"R{k}", a, b))
        if kind == 1:
            net.add_diode(f"D{k}", a, b, i_s=float(10 ** rng.uniform(-16, -9)), n=float(rng.uniform(1, 2)))
            branches.append((f"D{k}", a, b))
        elif kind >= 2:
            net.add_device(f"M{k}", a, b, cards[int(rng.integers(len(cards)))])
            branches.append((f"M{k}", a, b))
    net.add_vsource("V", "n1", "0", dc=float(rng.choice([-1, 1]) * 10 ** rng.uniform(-3, 4)))
    branches.append(("V", "n1", "0"))
    return net, branches


def test_random_nonlinear_circuits_solve_or_refuse_in_time():
    """DC of random diode/memristor circuits: Kirchhoff's current law at every node, summed in the
    test from each element's own current (math.fsum), or a ConvergenceError that says what was tried."""
    from neurosim.solve import dc

    solved = 0
    for seed in range(60):
        net, branches = _random_nonlinear(seed)
        with within(5.0), np.errstate(all="ignore"):
            try:
                op = dc(net)
            except ConvergenceError as exc:
                assert "tried" in str(exc) or "ill-conditioned" in str(exc) or "overflow" in str(exc), str(exc)
                continue
        terms: dict = {}
        slack: dict = {}  # a resistor's current g (v_a - v_b) carries g x the rounding of the voltages
        v = lambda node: 0.0 if node == "0" else float(op.v(node))  # noqa: E731
        for name, a, b in branches:
            i = float(op.i(name))
            assert math.isfinite(i), (seed, name)
            terms.setdefault(a, []).append(i)
            terms.setdefault(b, []).append(-i)
            if name.startswith("R"):
                g = 1.0 / float(net.groups[0].params["resistance"][list(net.groups[0].names).index(name)])
                for node in (a, b):
                    slack[node] = slack.get(node, 0.0) + 4e-16 * g * max(abs(v(a)), abs(v(b)))
        for node, ts in terms.items():
            if node != "0":
                limit = 1e-7 * max(abs(t) for t in ts) + slack.get(node, 0.0) + 1e-15
                assert abs(math.fsum(ts)) <= limit, (seed, node, ts)
        solved += 1
    assert solved >= 55


# ------------------------------------------------------------------------------------- hardware configurations
def test_random_hardware_configs_refuse_or_run_finite():
    """Random field values (in and out of range) for HardwareConfig: ParameterError naming the
    field, or an analog cell whose outputs are finite."""
    import dataclasses

    from neurosim.analog import HardwareConfig, to_analog
    from neurosim.cells import GRU

    values = [-1, 0, 1, 3, 8, 64, 1e-308, 1e308, math.nan, math.inf, -0.5, 0.5, "x", None, True]
    fields = {f.name for f in dataclasses.fields(HardwareConfig)} - {"device", "nonidealities", "crossbar_options", "read_mode"}
    rng = np.random.default_rng(3)
    cell = GRU(3, 4, seed=0)
    x = np.random.default_rng(0).standard_normal((6, 2, 3)).astype(np.float32)
    refused = ran = 0
    for _ in range(150):
        name = sorted(fields)[int(rng.integers(len(fields)))]
        value = values[int(rng.integers(len(values)))]
        with within(5.0):
            try:
                hw = HardwareConfig(read_mode="device", **{name: value})
            except ParameterError as exc:
                assert name in str(exc), (name, value, str(exc))
                refused += 1
                continue
            y, _ = to_analog(cell, hw)(x)
        assert np.all(np.isfinite(y)), (name, value)
        ran += 1
    assert refused >= 50 and ran >= 30


def test_every_input_family_has_a_fuzzer():
    """The census: each family of issue 17 maps to a fuzz test that exists."""
    import pathlib

    here = pathlib.Path(__file__).parent
    families = {
        "SPICE decks": ("test_robustness.py", "test_random_mutations_of_a_deck"),
        "device cards": ("test_robustness.py", "test_device_card_inputs"),
        "weight files": ("test_robustness.py", "test_broken_npz_containers"),
        "hardware configs": ("test_fuzz.py", "test_random_hardware_configs"),
        "config TOML": ("test_robustness.py", "test_config_inputs"),
        "CLI arguments": ("test_fuzz.py", "test_cli_arguments_fuzz"),
        "study files": ("test_fuzz.py", "test_cli_study_files_fuzz"),
        "stiff linear circuits": ("test_solve_conditioning.py", "test_random_networks_satisfy_kcl"),
        "nonlinear circuits": ("test_fuzz.py", "test_random_nonlinear_circuits"),
    }
    for family, (fname, test) in families.items():
        assert f"def {test}" in (here / fname).read_text(), family

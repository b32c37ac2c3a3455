"""Batched nonlinear circuit reads (issue 16): the batched Newton equals the one-vector Newton and ngspice.

References: ``TileCircuit.solve(method="direct")`` (one vector at a time, factorized Jacobian) and
ngspice-39 ``.op`` on the deck the crossbar exports, for 1S1R, 1T1R and sinh read I-V tiles, with
input vectors that put selectors in reverse bias.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from neurosim.crossbar import DAC, Crossbar, CrossbarConfig
from neurosim.crossbar.circuit import CellPhysics, TileCircuit
from neurosim.devices import SoftBoundsDevice
from neurosim.errors import ConvergenceError, ParameterError
from neurosim.spice import TIGHT_OPTIONS, run_ngspice

from test_crossbar_circuit import rel, spice_columns

SINH = SoftBoundsDevice(G_min=1e-6, G_max=1e-4, read_iv="sinh", v_nl=0.15)
CASES = [  # cell, device, r_wire, r_driver, readout
    ("1S1R", None, 1.0, 0.0, "tia"),
    ("1S1R", None, 2.0, 20.0, "sense"),
    ("1T1R", "sinh", 2.0, 0.0, "tia"),
    ("0T1R", "sinh", 1.0, 10.0, "tia"),
    ("1S1R", "sinh", 0.5, 0.0, "tia"),
]


def crossbar(rng, cell, device, r_wire, r_driver, readout, n=8):
    v_read = 1.0 if cell == "1S1R" else 0.3
    kw = {"device": SINH} if device else {}
    cfg = CrossbarConfig(cell=cell, mode="circuit", r_wire=r_wire, r_driver=r_driver, readout=readout, r_sense=50.0,
                         dac=DAC(v_read=v_read), tile_rows=n, tile_cols=n, **kw)
    return Crossbar(rng.normal(size=(n // 2, n)), cfg), v_read


def inputs(rng, v_read, n, batch=6):
    V = rng.uniform(-v_read, v_read, size=(batch, n))
    V[0] = -v_read  # every selector in reverse bias
    V[1, ::2] = v_read  # alternating full forward / full reverse rows
    V[1, 1::2] = -v_read
    return V


@pytest.mark.parametrize("group_bytes", [1, 1 << 30])  # one vector per group; all vectors in one group
@pytest.mark.parametrize("case", CASES)
def test_batched_equals_one_vector_newton(rng, case, group_bytes, monkeypatch):
    monkeypatch.setattr("neurosim.crossbar.circuit._BATCH_BYTES", group_bytes)
    xb, v_read = crossbar(rng, *case)
    tile = xb.tiles[0]
    V = inputs(rng, v_read, tile.rows)
    circ, cells = tile.circuit(), tile._cells(tile.G)
    ref = circ.solve(cells, V, method="direct")
    got = circ.solve(tile._cells(tile.G), V, method="batched")
    for a, b in zip(got, ref):
        assert rel(a, b) <= 1e-9
    # a warm start (the previous solution of other inputs) changes nothing beyond the tolerance
    circ.warm_start = True
    again = circ.solve(tile._cells(tile.G), V[::-1].copy(), method="batched")
    assert rel(again[0][::-1], ref[0]) <= 1e-9
    # reverse bias carries current of the opposite sign through the selectors
    assert np.all(np.sign(got[0][0]) <= 0) if case[0] != "0T1R" else True


@pytest.mark.ngspice
@pytest.mark.parametrize("case", CASES[:1] + CASES[2:])
def test_batched_read_equals_ngspice(ngspice_path, rng, case):
    xb, v_read = crossbar(rng, *case)
    V = inputs(rng, v_read, 8, batch=3)
    ours = xb.tiles[0].read(V, "circuit")[0]
    for k in range(V.shape[0]):
        res = run_ngspice(xb.netlist(V[k]), "op", options=TIGHT_OPTIONS)
        theirs = spice_columns(res, 8, case[2], case[4], xb.config.tia_gain, 50.0)
        assert rel(ours[k], theirs) <= 1e-6


def test_transposed_nonlinear_read_batched_equals_direct(rng):
    dev = SoftBoundsDevice(G_min=1e-6, G_max=1e-4, read_iv="sinh", v_nl=0.15)
    cfg = CrossbarConfig(device=dev, cell="1T1R", mode="circuit", r_wire=1.0, dac=DAC(v_read=0.3), tile_rows=6,
                         tile_cols=8)
    xb = Crossbar(rng.normal(size=(4, 6)), cfg)
    tile = xb.tiles[0]
    V = rng.uniform(-0.3, 0.3, size=(4, 8))
    circ, cells = tile.circuit(True), tile._cells(tile.G, True)
    ref = circ.solve(cells, V, method="direct")
    got = circ.solve(tile._cells(tile.G, True), V, method="batched")
    assert rel(got[0], ref[0]) <= 1e-9 and rel(got[1], ref[1]) <= 1e-9


def test_method_is_checked():
    tc = TileCircuit(2, 2, r_wire=0.0)
    cells = CellPhysics("1S1R", np.full((2, 2), 1e-5))
    with pytest.raises(ParameterError, match="method must be one of"):
        tc.solve(cells, np.ones((1, 2)), method="fast")
    with pytest.raises(ParameterError, match="needs r_wire > 0"):
        tc.solve(cells, np.ones((1, 2)), method="batched")


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 5),
    cols=st.integers(1, 5),
    cell=st.sampled_from(["1S1R", "1T1R"]),
    r_wire=st.sampled_from([0.3, 4.0]),
    r_driver=st.sampled_from([0.0, 20.0]),
    readout=st.sampled_from(["tia", "sense"]),
    seed=st.integers(0, 2**31),
)
def test_random_tiles_batched_equals_direct(rows, cols, cell, r_wire, r_driver, readout, seed):
    """Random small tiles, some lines floating, selectors forward and reverse biased."""
    rng = np.random.default_rng(seed)
    G = rng.uniform(1e-6, 1e-3, size=(rows, cols))
    driven = rng.random(rows) < 0.7
    read = rng.random(cols) < 0.7
    driven[0] = read[0] = True
    tc = TileCircuit(rows, cols, r_wire, r_driver, readout, 75.0, driven, read)
    V = rng.uniform(-1.2, 1.2, size=(3, int(driven.sum())))
    if cell == "1S1R":
        cells = lambda: CellPhysics("1S1R", G, i_s=1e-14)  # noqa: E731
    else:
        cells = lambda: CellPhysics("1T1R", None, SINH, rng.uniform(0, 1, (rows, cols)) * 0 + 0.5,  # noqa: E731
                                    np.full((rows, cols), 1e-3))
    try:  # the one-vector Newton gives up on some floating lines at 1e-17 A residuals: no reference there
        ref = tc.solve(cells(), V, method="direct")
    except ConvergenceError:
        assume(False)
    got = tc.solve(cells(), V, method="batched")
    scale = np.max(np.abs(ref[0])) + 1e-30
    assert np.max(np.abs(got[0] - ref[0])) <= 1e-9 * scale
    assert np.max(np.abs(got[2] - ref[2])) <= 1e-9 * (np.max(np.abs(ref[2])) + 1e-30)


def test_single_vector_and_preconditioner_symmetry(rng):
    """One vector (contiguous blocks: the sweep must not write into its input) and M^-1 symmetric."""
    G = rng.uniform(6e-5, 1e-2, size=(6, 6))
    tc = TileCircuit(6, 6, r_wire=1.0)
    cells = CellPhysics("0T1R", G)
    V = rng.uniform(0, 0.2, size=(1, 6))
    ref = tc.solve(cells, V, method="direct")
    x, done = tc._solve_lines(cells, V, 1e-12, 8)
    assert done.all()  # a linear tile: converged without the fallback
    assert rel(tc._outputs_lines(cells, V, x)[0], ref[0]) <= 1e-12
    ln = tc.lines()
    g = np.broadcast_to(G, (1, 6, 6)).copy()
    fac = ln.factor(g)
    a, b = rng.normal(size=(2, 1, ln.n))
    a0 = a.copy()
    za, zb = ln.precondition(fac, g, a), ln.precondition(fac, g, b)
    assert np.array_equal(a, a0)
    assert abs(np.sum(za * b) - np.sum(zb * a)) <= 1e-12 * abs(np.sum(za * b))

"""Circuit-mode reads against ngspice on the exported netlists, IR drop and sneak-path physics.

Independent references: ngspice-39 (batch ``.op`` on the netlist written by neurosim.spice and on a
deck that includes the ``circuits/*.cir`` cells as they are), neurosim.solve's general MNA solver
on the same netlist, and the ideal product (r_wire -> 0).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosim.crossbar import DAC, Crossbar, CrossbarConfig
from neurosim.crossbar.cells import cell_file, tile_netlist
from neurosim.crossbar.circuit import CellPhysics, TileCircuit
from neurosim.devices import SoftBoundsDevice
from neurosim.solve import dc
from neurosim.spice import TIGHT_OPTIONS, read_spice, run_ngspice

pytestmark = pytest.mark.ngspice


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))


def spice_columns(res, n_cols, r_wire, readout, tia_gain, r_sense):
    """Column currents from the ngspice node voltages (TIA: through the feedback resistor)."""
    out = []
    for j in range(n_cols):
        o = res.voltage(f"o{j}" if r_wire > 0 else f"c{j}")
        out.append((o - res.voltage(f"t{j}")) / tia_gain if readout == "tia" else o / r_sense)
    return np.array(out)


CASES = [
    ("0T1R", 1.0, 0.0, "tia"),
    ("0T1R", 2.0, 25.0, "sense"),
    ("0T1R", 0.0, 10.0, "tia"),
    ("1T1R", 1.0, 10.0, "tia"),
    ("1T1R", 0.5, 0.0, "sense"),
    ("1S1R", 1.0, 0.0, "tia"),
    ("1S1R", 2.0, 20.0, "sense"),
]


@pytest.mark.parametrize("cell,r_wire,r_driver,readout", CASES)
def test_circuit_read_equals_ngspice(ngspice_path, rng, cell, r_wire, r_driver, readout):
    W = rng.normal(size=(4, 8))  # 8 inputs, 4 outputs: one 8 x 8 differential tile
    v_read = 1.0 if cell == "1S1R" else 0.3
    cfg = CrossbarConfig(cell=cell, mode="circuit", r_wire=r_wire, r_driver=r_driver, readout=readout,
                         r_sense=50.0, tia_gain=2e4, dac=DAC(v_read=v_read))
    xb = Crossbar(W, cfg)
    v = rng.uniform(-v_read, v_read, size=8)
    ours = xb.read_currents(v)
    res = run_ngspice(xb.netlist(v), "op", options=TIGHT_OPTIONS)
    theirs = spice_columns(res, 8, r_wire, readout, 2e4, 50.0)
    tol = 1e-9
    assert rel(ours, theirs) <= tol
    # and the same netlist through neurosim.solve's general MNA / Newton
    op = dc(xb.netlist(v))
    cols = [f"o{j}" if r_wire > 0 else f"c{j}" for j in range(8)]
    if readout == "tia":
        general = np.array([(op.v(c) - op.v(f"t{j}")) / 2e4 for j, c in enumerate(cols)])
    else:
        general = np.array([op.v(c) / 50.0 for c in cols])
    assert rel(ours, general) <= tol


@pytest.mark.parametrize("cell", ["0T1R", "1S1R", "1T1R"])
def test_cell_library_files_run_in_ngspice(ngspice_path, rng, cell):
    """A deck that .includes circuits/cell_*.cir reads the same currents as our solver."""
    R, C = 3, 4
    G = rng.uniform(1e-6, 1e-4, size=(R, C))
    v = rng.uniform(0.5, 1.0, size=R)
    name = {"0T1R": "cell_0t1r", "1T1R": "cell_1t1r", "1S1R": "cell_1s1r"}[cell]
    lines = ["cell library", f".include {cell_file(cell)}"]
    for i in range(R):
        lines.append(f"Vin{i} r{i} 0 DC {float(v[i])!r}")
        if cell == "1T1R":
            lines.append(f"Vwl{i} wl{i} 0 DC 3.3")
        for j in range(C):
            wl = f" wl{i}" if cell == "1T1R" else ""
            lines.append(f"X{i}_{j} r{i} c{j}{wl} {name} r={float(1 / G[i, j])!r}")
    for j in range(C):
        lines.append(f"Vc{j} c{j} 0 DC 0")
    lines += [".op", ".end"]
    # the tile's selectors carry no junction gmin (ngspice's default adds 1e-12 S to each)
    res = run_ngspice("\n".join(lines), options={**TIGHT_OPTIONS, "gmin": 0.0})
    theirs = np.array([res.current(f"Vc{j}") for j in range(C)])
    tc = TileCircuit(R, C, r_wire=0.0, r_driver=0.0)
    g_acc = np.full((R, C), 1 / (1e3 + 0.0)) if cell == "1T1R" else None
    cells = CellPhysics(cell, G, g_access=g_acc)
    I = tc.solve(cells, v[None])[0][0]
    assert rel(I, theirs) <= 1e-9


@pytest.mark.parametrize("cell", ["0T1R", "1S1R"])
def test_cell_library_files_read_by_read_spice(cell):
    name = {"0T1R": "cell_0t1r", "1S1R": "cell_1s1r"}[cell]
    deck = read_spice(f"t\n.include {cell_file(cell)}\nV1 a 0 DC 1\nX1 a 0 {name} r=2e4\n.op\n.end\n")
    assert deck.netlist.element("X1.Rm")["params"] == {"resistance": 2e4}


def test_transposed_circuit_read_equals_ngspice(ngspice_path, rng):
    W = rng.normal(size=(4, 6))
    cfg = CrossbarConfig(mode="circuit", r_wire=1.5, dac=DAC(v_read=0.2))
    xb = Crossbar(W, cfg)
    tile = xb.tiles[0]
    vcol = rng.uniform(-0.2, 0.2, size=8)
    I, _, _ = tile.read(vcol[None], "circuit", transposed=True)
    # the column-driven array is the row-driven netlist of G^T
    res = run_ngspice(tile_netlist(tile.G.T, vcol, r_wire=1.5, tia_gain=1e4), "op", options=TIGHT_OPTIONS)
    assert rel(I[0], spice_columns(res, 6, 1.5, "tia", 1e4, 100.0)) <= 1e-9


def ir_error(n, r_wire, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    W = rng.uniform(-1, 1, size=(n // 2, n))
    X = rng.uniform(-1, 1, size=(20, n))
    cfg = CrossbarConfig(mode="circuit", r_wire=r_wire, tile_rows=n, tile_cols=n)
    return rel(Crossbar(W, cfg).matmul(X), X @ W.T)


def test_ir_drop_grows_with_size_and_wire_resistance():
    by_size = [ir_error(n, 1.0) for n in (8, 16, 32, 64)]
    assert all(a < b for a, b in zip(by_size, by_size[1:]))
    by_r = [ir_error(32, r) for r in (0.1, 1.0, 10.0)]
    assert all(a < b for a, b in zip(by_r, by_r[1:]))


def test_ir_drop_vanishes_with_the_wires():
    small = [ir_error(16, r) for r in (1e-3, 1e-4, 1e-5)]
    # first order in r_wire: each decade of r_wire takes a decade off the error
    assert 8 < small[0] / small[1] < 12 and 8 < small[1] / small[2] < 12
    assert ir_error(16, 0.0) < 1e-12


def test_sneak_paths_appear_floating_and_selectors_suppress_them(rng):
    W = np.abs(rng.normal(size=(8, 16)))  # 16 x 16 physical array
    fractions = {}
    for cell in ("0T1R", "1S1R"):
        cfg = CrossbarConfig(cell=cell, mode="circuit", r_wire=0.0, dac=DAC(v_read=0.8), selector_is=1e-15)
        xb = Crossbar(W, cfg)
        i, j = 3, 5
        measured = xb.read_cell(i, j, 0.8)
        alone = CellPhysics(cell, np.array([[xb.G[i, j]]]), i_s=1e-15).iv(np.array([[0.8]]))[0][0, 0]
        fractions[cell] = (measured - alone) / alone
        # driving every row and holding every column at virtual ground: no sneak current
        v = np.zeros(16)
        v[i] = 0.8
        assert rel(xb.read_currents(v)[j], alone) < 1e-6
    assert fractions["0T1R"] > 1.0  # sneak currents exceed the cell's own
    assert 0 < fractions["1S1R"] < 0.01  # the selectors block them


def test_nonlinear_device_circuit_without_wires_equals_device_mode(rng):
    dev = SoftBoundsDevice(G_min=1e-6, G_max=1e-4, read_iv="sinh", v_nl=0.2)
    W = rng.normal(size=(3, 5))
    X = rng.uniform(-1, 1, size=(4, 5))
    base = dict(device=dev, dac=DAC(v_read=0.3), r_wire=0.0)
    circ = Crossbar(W, CrossbarConfig(mode="circuit", **base)).matmul(X)
    devm = Crossbar(W, CrossbarConfig(mode="device", **base)).matmul(X)
    assert rel(circ, devm) < 1e-10
    with_wires = Crossbar(W, CrossbarConfig(mode="circuit", **{**base, "r_wire": 5.0})).matmul(X)
    assert 1e-6 < rel(with_wires, devm) < 0.1


def test_linear_map_equals_newton_on_linear_cells(rng):
    tc = TileCircuit(40, 40, r_wire=1.0, r_driver=5.0)  # 3200 unknowns: the sparse Schur path
    G = rng.uniform(1e-6, 1e-4, size=(40, 40))
    V = rng.uniform(-0.3, 0.3, size=(2, 40))
    lm = tc.linear_map(G)
    I, _, P = tc.solve(CellPhysics("0T1R", G), V)
    assert rel(V @ lm.M, I) < 1e-10
    assert rel(np.einsum("bi,ij,bj->b", V, lm.Y, V), P) < 1e-10


def test_read_disturb_uses_the_cell_voltages_of_the_solve(ngspice_path, rng):
    from neurosim.devices import load_device

    dev = load_device("hp_tio2_strukov2008")  # moves under any voltage
    W = np.abs(rng.normal(size=(2, 4)))
    x = np.array([1.0, -0.5, 0.25, 0.75])
    changes = {}
    for mode, r_wire in (("device", 0.0), ("circuit", 0.0), ("circuit", 20.0)):
        cfg = CrossbarConfig(device=dev, mode=mode, r_wire=r_wire, read_disturb=True, dac=DAC(v_read=1.0))
        xb = Crossbar(W, cfg)
        s0 = xb.tiles[0].state.copy()
        if r_wire > 0:
            net = xb.netlist(x)  # before the read: the cells at their programmed conductances
        xb.matvec(x)
        changes[(mode, r_wire)] = xb.tiles[0].state - s0
    # without wires every cell sees its row voltage, as in device mode
    assert rel(changes[("circuit", 0.0)], changes[("device", 0.0)]) < 1e-9
    # with wires: the cell voltages ngspice finds, through the device's own state equation
    res = run_ngspice(net, "op", options=TIGHT_OPTIONS)
    v_cell = np.array([[res.voltage(f"r{i}_{j}") - res.voltage(f"c{i}_{j}") for j in range(4)] for i in range(4)])
    expect = dev.step(s0, v_cell, cfg.cost.t_read) - s0
    assert rel(changes[("circuit", 20.0)], expect) < 1e-8
    assert rel(changes[("circuit", 20.0)], changes[("device", 0.0)]) > 1e-3  # IR drop matters here


@settings(max_examples=30, deadline=None)
@given(
    rows=st.integers(1, 6),
    cols=st.integers(1, 6),
    r_wire=st.sampled_from([0.0, 0.3, 4.0]),
    r_driver=st.sampled_from([0.0, 20.0]),
    readout=st.sampled_from(["tia", "sense"]),
    seed=st.integers(0, 2**31),
)
def test_tile_solver_equals_the_general_mna_solver(rows, cols, r_wire, r_driver, readout, seed):
    """Random small tiles, some lines floating: our port-reduced map vs neurosim.solve on the netlist."""
    rng = np.random.default_rng(seed)
    G = rng.uniform(1e-6, 1e-3, size=(rows, cols))
    v = rng.uniform(-1, 1, size=rows)
    driven = rng.random(rows) < 0.7
    read = rng.random(cols) < 0.7
    driven[0] = read[0] = True
    tc = TileCircuit(rows, cols, r_wire, r_driver, readout, 75.0, driven, read)
    ours = v[driven] @ tc.linear_map(G).M
    net = tile_netlist(G, v, r_wire=r_wire, r_driver=r_driver, readout=readout, tia_gain=1e3, r_sense=75.0,
                       driven=driven, read=read)
    op = dc(net)
    cols_read = np.flatnonzero(read)
    node = [f"o{j}" if r_wire > 0 else f"c{j}" for j in cols_read]
    if readout == "tia":
        general = np.array([(op.v(n) - op.v(f"t{j}")) / 1e3 for n, j in zip(node, cols_read)])
    else:
        general = np.array([op.v(n) / 75.0 for n in node])
    assert np.allclose(ours, general, rtol=1e-9, atol=1e-9 * np.max(np.abs(general)) + 1e-18)


@pytest.mark.parametrize("cell,r_wire", [("0T1R", 1.0), ("1T1R", 2.0), ("1S1R", 1.0)])
def test_nonlinear_device_array_equals_ngspice(ngspice_path, rng, cell, r_wire):
    """A device model's own sinh read I-V in every cell, exported as behavioural subcircuits."""
    dev = SoftBoundsDevice(G_min=1e-6, G_max=1e-4, read_iv="sinh", v_nl=0.15)
    W = rng.normal(size=(3, 6))
    v_read = 1.0 if cell == "1S1R" else 0.3
    cfg = CrossbarConfig(device=dev, cell=cell, mode="circuit", r_wire=r_wire, dac=DAC(v_read=v_read))
    xb = Crossbar(W, cfg)
    v = rng.uniform(-v_read, v_read, size=6)
    ours = xb.read_currents(v)
    res = run_ngspice(xb.netlist(v), "op", options=TIGHT_OPTIONS)
    assert rel(ours, spice_columns(res, 6, r_wire, "tia", cfg.tia_gain, 100.0)) <= 1e-6


class _OpVoltages:
    """neurosim.dc's operating point with the accessor spice_columns uses."""

    def __init__(self, op):
        self.voltage = op.v


@pytest.mark.parametrize("cell,device,r_wire,r_driver", [
    ("1S1R", None, 1.0, 0.0),            # diode selectors, linear memristors
    ("0T1R", "sinh", 1.0, 10.0),         # the device's own nonlinear read I-V
    ("1T1R", "sinh", 2.0, 0.0),
    ("1S1R", "sinh", 0.5, 0.0),          # series pair: internal node solved inside the cell
])
def test_nonlinear_tile_newton_equals_the_general_mna_newton(rng, cell, device, r_wire, r_driver):
    """The crossbar keeps its own Newton (port-reduced, chord steps); it must agree with
    neurosim.dc's damped MNA Newton on the very netlist the tile writes."""
    dev = SoftBoundsDevice(G_min=1e-6, G_max=1e-4, read_iv="sinh", v_nl=0.15) if device else None
    v_read = 1.0 if cell == "1S1R" else 0.3
    kw = {"device": dev} if dev is not None else {}
    cfg = CrossbarConfig(cell=cell, mode="circuit", r_wire=r_wire, r_driver=r_driver, dac=DAC(v_read=v_read), **kw)
    xb = Crossbar(rng.normal(size=(4, 5)), cfg)
    v = rng.uniform(-v_read, v_read, size=5)
    ours = xb.read_currents(v)
    general = spice_columns(_OpVoltages(dc(xb.netlist(v))), ours.size, r_wire, "tia", cfg.tia_gain, 100.0)
    assert rel(ours, general) <= 1e-9


def test_tile_newton_failure_names_the_node_and_cell(rng):
    from neurosim.errors import ConvergenceError

    dev = SoftBoundsDevice(G_min=1e-6, G_max=1e-4, read_iv="sinh", v_nl=0.15)
    cfg = CrossbarConfig(device=dev, mode="circuit", r_wire=1.0, dac=DAC(v_read=0.3))
    xb = Crossbar(rng.normal(size=(3, 4)), cfg)
    tile = xb.tiles[0]
    with pytest.raises(ConvergenceError, match=r"(row|column)-wire node of (row|column) \d+ at cell \(\d+, \d+\)"):
        tile.circuit().solve(tile._cells(tile.G), np.full((1, 4), 0.3), max_iter=1)

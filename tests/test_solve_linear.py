"""Factorize once, solve many: batches equal individual solves; transfer matrices; crossbar limits."""

import numpy as np
import pytest
import scipy.sparse.linalg as sla

from neurosim.errors import NetlistError, ParameterError
from neurosim.netlist import Netlist, crossbar_netlist
from neurosim.solve import LinearSolver, compile, dc


def _circuit():
    net = Netlist()
    net.add_vsource("V1", "a", "0", 1.0)
    net.add_vsource("V2", "c", "0", -0.5)
    net.add_isource("I1", "0", "b", 2e-3)
    net.add_resistor("R1", "a", "b", 1e3)
    net.add_resistor("R2", "b", "c", 2e3)
    net.add_resistor("R3", "b", "0", 5e3)
    return net


def test_batch_equals_individual_dc_solves(rng):
    net = _circuit()
    cc = compile(net)
    lin = cc.linear_solver()
    u = rng.uniform(-1, 1, size=(3, 7))
    batch = lin.solve_sources(u)
    for k in range(u.shape[1]):
        one = Netlist()
        one.add_vsource("V1", "a", "0", u[0, k])
        one.add_vsource("V2", "c", "0", u[1, k])
        one.add_isource("I1", "0", "b", u[2, k])
        one.add_resistor("R1", "a", "b", 1e3)
        one.add_resistor("R2", "b", "c", 2e3)
        one.add_resistor("R3", "b", "0", 5e3)
        np.testing.assert_allclose(batch[:, k], dc(one).x, rtol=1e-13, atol=1e-16)


def test_selected_sources_keep_dc_values_and_outputs(rng):
    cc = compile(_circuit())
    lin = cc.linear_solver()
    u = rng.uniform(-1, 1, size=(1, 5))
    full = np.vstack([u, np.full((1, 5), -0.5), np.full((1, 5), 2e-3)])
    ref = lin.solve_sources(full)
    got = lin.solve_sources(u, sources=["V1"])
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-18)
    outs = ["b", "R2", "V1"]
    y = lin.solve_sources(u, sources=["V1"], outputs=outs)  # K=5 >= 1: through the transfer matrix
    b = ref[cc.node_index("b")]
    np.testing.assert_allclose(y[0], b, rtol=1e-12)
    np.testing.assert_allclose(y[1], (b - (-0.5)) / 2e3, rtol=1e-12)
    np.testing.assert_allclose(y[2], ref[cc.vs_row[0]], rtol=1e-12)
    y1 = lin.solve_sources(u[:, 0], sources=["V1"], outputs=outs)
    np.testing.assert_allclose(y1, y[:, 0], rtol=1e-12)


def test_transfer_matrix_forward_and_adjoint_agree(rng):
    n = 6
    cc = compile(crossbar_netlist(n, r_wire=3.0, seed=2))
    lin = LinearSolver(cc, port_last=True)
    rows = [f"Vr{i}" for i in range(n)]
    few_out = ["Vc0", "Vc3"]  # 2 outputs < 6 sources: adjoint (transposed) solves
    many_out = [f"Vc{j}" for j in range(n)] + [f"r{i}_2" for i in range(n)]  # 12 > 6: forward
    assert lin.ports is not None  # sources and column currents on the ports: the Schur-block path
    m_few = lin.transfer_matrix(rows, few_out)
    m_many = lin.transfer_matrix(rows, many_out)  # node voltages are not ports: per-source solves
    np.testing.assert_allclose(m_few, m_many[[0, 3]], rtol=1e-11, atol=1e-20)
    plain = LinearSolver(cc, port_last=False)
    assert plain.ports is None
    np.testing.assert_allclose(plain.transfer_matrix(rows, few_out), m_few, rtol=1e-11, atol=1e-20)
    # reference: dense solve of the same MNA system, one column per source
    A = cc.A.toarray()
    B = cc.source_matrix(rows).toarray()
    X = np.linalg.solve(A, B)
    np.testing.assert_allclose(m_many[:n], X[cc.vs_row[n:]], rtol=1e-9, atol=1e-20)
    assert lin.transfer_matrix(rows, few_out) is m_few  # cached


def test_crossbar_without_wires_is_the_ideal_product(rng):
    n = 12
    g = rng.uniform(1e-6, 1e-4, size=(n, n))
    v = rng.uniform(0, 1, size=n)
    cc = compile(crossbar_netlist(n, r_wire=1e-9, g=g, v_in=v))
    lin = cc.linear_solver()
    cols = [f"Vc{j}" for j in range(n)]
    y = lin.solve_sources(rng.uniform(0, 1, size=(n, 30)), sources=[f"Vr{i}" for i in range(n)], outputs=cols)
    m = lin.transfer_matrix([f"Vr{i}" for i in range(n)], cols)
    np.testing.assert_allclose(m, g.T, rtol=1e-9)
    assert y.shape == (n, 30)
    # with wire resistance and all rows at 1 V every node lies in (0, 1) V (maximum principle), so
    # every cell sees less than 1 V: each column current is below the ideal sum of its conductances
    lossy = compile(crossbar_netlist(n, r_wire=10.0, g=g, v_in=v)).linear_solver()
    m2 = lossy.transfer_matrix([f"Vr{i}" for i in range(n)], cols)
    assert np.all(m2 @ np.ones(n) < g.sum(axis=0))
    assert np.all(m2 @ np.ones(n) > 0.5 * g.sum(axis=0))


def test_matches_bare_splu_on_same_matrix():
    cc = compile(crossbar_netlist(20, seed=5))
    b = cc.rhs()
    ref = sla.spsolve(cc.A.tocsc(), b)
    for permc in ("MMD_AT_PLUS_A", "COLAMD", "MMD_ATA"):
        np.testing.assert_allclose(LinearSolver(cc, permc_spec=permc).solve(b), ref, rtol=1e-10, atol=1e-14)


def test_chunked_block_solve_equals_single_block(rng):
    cc = compile(crossbar_netlist(5, seed=1))
    rhs = rng.normal(size=(cc.size, 23))
    np.testing.assert_allclose(LinearSolver(cc, chunk=4).solve(rhs), LinearSolver(cc).solve(rhs), rtol=1e-12)


def test_linear_solver_errors():
    net = Netlist()
    net.add_vsource("V", "a", "0", 1.0)
    net.add_diode("D", "a", "0")
    with pytest.raises(NetlistError, match="use dc"):
        LinearSolver(compile(net))
    lin = compile(_circuit()).linear_solver()
    with pytest.raises(ParameterError, match="values must have 1 rows"):
        lin.solve_sources(np.zeros((2, 3)), sources=["V1"])
    with pytest.raises(ParameterError, match="no independent source named 'V9'"):
        lin.solve_sources(np.zeros(1), sources=["V9"])
    with pytest.raises(ParameterError, match="permc_spec"):
        LinearSolver(compile(_circuit()), permc_spec="METIS")
    with pytest.raises(ParameterError, match="finite"):
        lin.solve(np.full(lin.circuit.size, np.nan))

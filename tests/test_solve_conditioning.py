"""Ill-conditioned circuits: every linear solve checks Kirchhoff's laws and refines, or says why not.

Independent reference: Kirchhoff's current law evaluated in the test from the element values and
the node voltages (each resistor's g v terms, the sources' branch currents, summed exactly with
math.fsum), not from the MNA matrix.
"""

import numpy as np
import pytest

from neurosim.errors import ConvergenceError, NetlistError
from neurosim.netlist import Netlist
from neurosim.solve import dc


def _network(seed, n=14, extra=12, n_sources=3, lo=0.25, hi=5e13):
    """A random connected resistor network, log-uniform resistances in [lo, hi], floating sources."""
    rng = np.random.default_rng(seed)
    net = Netlist("stiff")
    edges = set()
    for k in range(2, n + 1):
        j = int(rng.integers(0, k - 1))
        edges.add((f"n{k}", "0" if j == 0 else f"n{j}"))
    for _ in range(extra):
        a, b = rng.integers(0, n + 1, 2)
        if a != b:
            edges.add((f"n{a}" if a else "0", f"n{b}" if b else "0"))
    resistors = []
    for i, (a, b) in enumerate(sorted(edges)):
        r = float(10 ** rng.uniform(np.log10(lo), np.log10(hi)))
        net.add_resistor(f"R{i}", a, b, r)
        resistors.append((f"R{i}", a, b, r))
    sources = []
    for k in range(n_sources):
        a, b = rng.choice(n, 2, replace=False) + 1
        net.add_vsource(f"V{k}", f"n{a}", f"n{b}", dc=float(rng.uniform(-10, 10)))
        sources.append((f"V{k}", f"n{a}", f"n{b}"))
    return net, resistors, sources


def _kcl_worst(op, resistors, sources):
    """max over nodes of |sum of currents leaving| / (largest term + 1e-20 x the circuit's largest term).

    The terms are those Kirchhoff's law adds at a node: for each resistor g v_a and -g v_b (a float64
    node voltage is known to ~1e-16 of its value, so this is the scale its rounding sets), and each
    source's branch current. The sum itself is accumulated exactly (math.fsum).
    """
    import math

    v = lambda node: 0.0 if node == "0" else float(op.v(node))  # noqa: E731
    terms: dict = {}
    for _, a, b, r in resistors:
        g = 1.0 / r
        terms.setdefault(a, []).extend([g * v(a), -g * v(b)])
        terms.setdefault(b, []).extend([g * v(b), -g * v(a)])
    for name, a, b in sources:  # the branch current flows from a through the source to b
        i = float(op.i(name))
        terms.setdefault(a, []).append(i)
        terms.setdefault(b, []).append(-i)
    biggest = max(max(abs(t) for t in ts) for ts in terms.values())
    worst = 0.0
    for node, ts in terms.items():
        if node == "0":
            continue
        worst = max(worst, abs(math.fsum(ts)) / (max(abs(t) for t in ts) + 1e-20 * biggest))
    return worst


def test_the_stiff_network_that_gave_a_wrong_answer_silently():
    # resistances from 0.25 ohm to 5e13 ohm, 14 nodes, three floating sources: the plain sparse LU
    # (threshold pivoting) broke KCL here by 1.4e-3 of a node's largest current, without a word
    net, resistors, sources = _network(442)
    op = dc(net)
    assert _kcl_worst(op, resistors, sources) <= 1e-9


@pytest.mark.parametrize("lo, hi", [(1e-3, 1e9), (1e-15, 1e15)])
def test_random_networks_satisfy_kcl_or_raise_the_ill_conditioning_error(lo, hi):
    solved = refused = 0
    for seed in range(150):
        net, resistors, sources = _network(seed, lo=lo, hi=hi, n_sources=1 + seed % 3)
        try:
            op = dc(net)
        except NetlistError:  # a loop of voltage sources: refused before solving
            continue
        except ConvergenceError as exc:
            assert "ill-conditioned" in str(exc) and "equation of" in str(exc)
            refused += 1
            continue
        solved += 1
        assert _kcl_worst(op, resistors, sources) <= 1e-9, seed
    assert solved >= 130  # refinement rescues nearly every case; the rest are refused, never wrong

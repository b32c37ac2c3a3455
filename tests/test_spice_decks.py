"""Decks in the syntax SPICE users write (tests/decks/*.cir), read by neurosim and run unchanged by
ngspice-39: every node voltage of the operating point agrees to 1e-9 relative with a 1 uV floor."""

import pathlib

import numpy as np
import pytest

from neurosim.solve import dc
from neurosim.spice import TIGHT_OPTIONS, read_spice, run_ngspice

DECKS = pathlib.Path(__file__).parent / "decks"
OP_DECKS = sorted(DECKS.glob("*.cir"))


def test_instance_line_params_keyword():
    deck = read_spice(DECKS / "subckt_params_instance.cir")
    r = {n: deck.netlist.element(n)["params"]["resistance"] for n in ("X1.R1", "X2.R2", "X3.R1")}
    assert r == {"X1.R1": 2000.0, "X2.R2": 1000.0, "X3.R1": 1000.0}


@pytest.mark.ngspice
@pytest.mark.parametrize("path", OP_DECKS, ids=lambda p: p.stem)
def test_deck_op_agrees_with_ngspice(ngspice_path, path):
    deck = read_spice(path)
    op = dc(deck.netlist)
    text = path.read_text()
    ref = run_ngspice(text, options=TIGHT_OPTIONS)
    nodes = [n for n in deck.netlist.node_names if n != "0"]
    ours = np.array([float(op.v(n)) for n in nodes])
    theirs = np.array([ref.voltage(n) for n in nodes])
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-6)

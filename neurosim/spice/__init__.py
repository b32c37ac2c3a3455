"""SPICE in and out: read and write ngspice-compatible decks, run ngspice for reference results.

- :func:`write_spice` / :func:`save_spice`: any netlist as an ngspice deck.
- :func:`read_spice`: the common subset of SPICE (R, C, L, V, I, E, G, F, H, D, X/.subckt, .param,
  .include, .model, .op, .tran, .dc, .ac) into a netlist plus its analysis directives.
- :func:`run_ngspice`: ngspice in batch mode, results as arrays (tests and benchmarks only).
"""

from neurosim.spice.analysis import AC, DCSweep, Op, Tran
from neurosim.spice.expr import evaluate
from neurosim.spice.lexer import parse_number
from neurosim.spice.reader import SpiceDeck, read_spice
from neurosim.spice.runner import TIGHT_OPTIONS, SpiceResults, run_ngspice
from neurosim.spice.writer import SpiceExport, export_spice, save_spice, write_spice

__all__ = [
    "write_spice",
    "save_spice",
    "export_spice",
    "SpiceExport",
    "read_spice",
    "SpiceDeck",
    "run_ngspice",
    "SpiceResults",
    "TIGHT_OPTIONS",
    "Op",
    "Tran",
    "DCSweep",
    "AC",
    "evaluate",
    "parse_number",
]

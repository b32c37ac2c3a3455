"""Run ngspice in batch mode on a deck and read its results back as arrays.

For tests and benchmarks only: the solvers never call ngspice. The deck is written to a temporary
directory and run as ``ngspice -b -r out.raw deck.cir`` with a timeout; the binary raw file keeps
every value as a double (no 6-digit printing).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np

from neurosim.errors import NeurosimError, ParameterError
from neurosim.params import Param, check_params
from neurosim.spice.analysis import Analysis, Op, as_analysis, fmt
from neurosim.spice.raw import RawPlot, read_raw

__all__ = ["run_ngspice", "SpiceResults", "TIGHT_OPTIONS", "ngspice_executable"]

#: ``.options`` for reference solutions: Newton iterates until node voltages agree to ~1e-12
#: relative, so linear circuits are solved to rounding and nonlinear ones far below 1e-9.
TIGHT_OPTIONS = {"reltol": 1e-12, "abstol": 1e-18, "vntol": 1e-15, "chgtol": 1e-20}


def ngspice_executable() -> str:
    """Path of the ``ngspice`` program.

    Raises
    ------
    NeurosimError
        ngspice is not installed (Debian/Ubuntu: ``apt-get install ngspice``).
    """
    path = shutil.which("ngspice")
    if path is None:
        raise NeurosimError(
            "ngspice is not installed or not on PATH: install the Debian package 'ngspice' "
            "(sudo apt-get install ngspice) or run `bash scripts/setup.sh test`"
        )
    return path


@dataclasses.dataclass
class SpiceResults:
    """Results of one ngspice run.

    Node voltages and source currents are looked up by the *netlist's* names when the deck was
    written from a netlist (the writer's name map), otherwise by SPICE names (case-insensitive).
    Currents follow the SPICE convention: ``current("V1")`` is the current flowing into the source's
    ``+`` terminal, through the source, out of its ``-`` terminal.

    Attributes
    ----------
    analysis : Op, Tran, DCSweep or AC
    vectors : dict of str to numpy.ndarray
        Every vector of the result, by SPICE name (``"v(out)"``, ``"i(v1)"``, ``"time"``).
    elapsed : float
        Wall time of the ngspice process in second.
    deck : str
        The deck that was run.
    stdout, stderr : str
        What ngspice printed.
    """

    analysis: Analysis
    vectors: dict
    elapsed: float
    deck: str
    stdout: str = ""
    stderr: str = ""
    node_map: dict = dataclasses.field(default_factory=dict)
    element_map: dict = dataclasses.field(default_factory=dict)

    def _pick(self, key: str, what: str, name: str):
        vec = self.vectors.get(key)
        if vec is None:
            raise NeurosimError(f"ngspice results have no {what} {name!r} (looked for {key!r})")
        return float(vec[0]) if isinstance(self.analysis, Op) else vec

    @property
    def axis(self) -> np.ndarray:
        """The time points (``.tran``), swept source values (``.dc``; for a nested sweep the inner
        source's, fastest varying) or frequencies in Hz (``.ac``); ``[0.]`` for ``.op``."""
        for key in ("time", "v(v-sweep)", "v-sweep", "i(i-sweep)", "i-sweep"):
            if key in self.vectors:
                return self.vectors[key]
        if "frequency" in self.vectors:  # .ac: stored as complex with a zero imaginary part
            return self.vectors["frequency"].real
        for key, vec in self.vectors.items():  # .dc names the axis after the swept source
            if not key.startswith(("v(", "i(")) and "#" not in key:
                return vec
        return np.zeros(1)

    def voltage(self, node: str):
        """Voltage of ``node`` in volt (a float for ``.op``, an array over :attr:`axis` otherwise;
        complex phasors for ``.ac``).

        Raises
        ------
        NeurosimError
            No such node in the results.
        """
        spice = self.node_map.get(node, str(node)).lower()
        if spice == "0":
            zero = np.zeros_like(self.axis, dtype=float)
            return 0.0 if isinstance(self.analysis, Op) else zero
        return self._pick(f"v({spice})", "node", node)

    def internal_voltage(self, element: str, node: str):
        """Voltage (V) of an internal node of a subcircuit element, e.g. a device's state node ``"x"``.

        Raises
        ------
        NeurosimError
            No such node in the results.
        """
        spice = self.element_map.get(element, str(element)).lower()
        return self._pick(f"v({spice}.{str(node).lower()})", "internal node", f"{element}.{node}")

    def current(self, source: str):
        """Branch current of a voltage source (or VCVS) in ampere, SPICE sign convention.

        Raises
        ------
        NeurosimError
            No such branch in the results.
        """
        spice = self.element_map.get(source, str(source)).lower()
        key = f"i({spice})"
        if key not in self.vectors and f"{spice}#branch" in self.vectors:
            key = f"{spice}#branch"
        return self._pick(key, "branch current of", source)


def _options_line(options: dict | None) -> str:
    if not options:
        return ""
    parts = []
    for key, value in options.items():
        if not str(key).isidentifier():
            raise ParameterError(f"run_ngspice: option names must be identifiers, got {key!r}")
        parts.append(str(key) if value is True else f"{key}={fmt(value) if not isinstance(value, str) else value}")
    return ".options " + " ".join(parts)


def _compose(deck: str, analysis: Analysis | None, options: dict | None) -> str:
    """Insert options and the analysis line before ``.end`` (added if missing)."""
    lines = deck.rstrip("\n").split("\n")
    end = len(lines)
    for k in range(len(lines) - 1, 0, -1):
        if lines[k].strip().lower() == ".end":
            end = k
            break
    extra = [line for line in (_options_line(options), analysis.to_spice() if analysis else "") if line]
    return "\n".join(lines[:end] + extra + [".end"]) + "\n"


def run_ngspice(netlist_or_deck, analysis=None, *, options: dict | None = None, timeout: float = 300.0,
                keep_dir: str | None = None) -> SpiceResults:
    r"""Run ngspice (batch mode) on a netlist or a deck and return its results.

    ngspice solves the same MNA equations; its binary raw file is read back without loss, and
    source currents keep SPICE's sign (positive into the ``+`` terminal):

    .. math:: i_{V} > 0 \iff \text{current flows } n_+ \to n_- \text{ through the source}

    Parameters
    ----------
    netlist_or_deck : Netlist or str
        A netlist (exported with :func:`neurosim.spice.write_spice`) or the text of a complete deck.
        A deck without an analysis line needs ``analysis``.
    analysis : Op, Tran, DCSweep, AC or str, optional
        The analysis to run (e.g. ``"op"``); for a deck that has its own analysis line leave it
        ``None``.
    options : dict, optional
        ``.options`` to add, e.g. :data:`TIGHT_OPTIONS` for reference solutions.
    timeout : float
        Seconds before ngspice is killed.
    keep_dir : str, optional
        Write ``deck.cir`` and ``out.raw`` into this existing directory instead of a temporary one.

    Returns
    -------
    SpiceResults

    Raises
    ------
    NeurosimError
        ngspice is missing, fails, times out or writes no results (the message shows the tail of
        what it printed).

    Examples
    --------
    >>> deck = "divider\nV1 in 0 DC 1\nR1 in out 1k\nR2 out 0 3k\n.end"
    >>> run_ngspice(deck, "op").voltage("out")
    0.75
    """
    check_params("run_ngspice", {"timeout": Param("real", low=0, low_open=True, unit="s")}, {"timeout": timeout})
    exe = ngspice_executable()
    node_map: dict = {}
    element_map: dict = {}
    an = as_analysis(analysis) if analysis is not None else None
    if isinstance(netlist_or_deck, str):
        deck = _compose(netlist_or_deck, an, options)
    else:
        from neurosim.spice.writer import export_spice

        exported = export_spice(netlist_or_deck, analysis=an, options=options)
        deck, node_map, element_map = exported.text, exported.node_map, exported.element_map
        an = exported.analysis
    if an is None:
        an = _analysis_in(deck)
    with tempfile.TemporaryDirectory(prefix="neurosim-ngspice-") as tmp:
        where = keep_dir or tmp
        deck_path = os.path.join(where, "deck.cir")
        raw_path = os.path.join(where, "out.raw")
        if os.path.exists(raw_path):
            os.remove(raw_path)
        with open(deck_path, "w") as fh:
            fh.write(deck)
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                [exe, "-b", "-r", raw_path, deck_path], cwd=where, capture_output=True, text=True,
                timeout=timeout, stdin=subprocess.DEVNULL,
                env={**os.environ, "SPICE_ASCIIRAWFILE": "0"},  # binary raw file: full precision
            )
        except subprocess.TimeoutExpired as exc:
            raise NeurosimError(f"ngspice did not finish within {timeout} s on {deck_path}") from exc
        elapsed = time.perf_counter() - start
        tail = _tail(proc.stderr) or _tail(proc.stdout)
        if proc.returncode != 0:
            raise NeurosimError(f"ngspice failed (exit code {proc.returncode}):\n{tail}")
        if not os.path.exists(raw_path):
            raise NeurosimError(f"ngspice wrote no results:\n{tail}")
        plots = read_raw(raw_path)
    if not plots or not any(len(v) for p in plots for v in p.vectors.values()):
        raise NeurosimError(f"ngspice returned no data points:\n{tail}")
    plot: RawPlot = plots[-1]
    return SpiceResults(an, plot.vectors, elapsed, deck, proc.stdout, proc.stderr, node_map, element_map)


def _analysis_in(deck: str) -> Analysis:
    for line in deck.split("\n"):
        word = line.strip().lower()
        if word == ".op" or word.startswith((".op ", ".tran ", ".dc ", ".ac ")):
            return as_analysis(word)
    raise ParameterError("run_ngspice: the deck has no .op, .tran, .dc or .ac line; pass analysis=")


def _tail(text: str, lines: int = 15) -> str:
    kept = [line for line in text.strip().split("\n") if line.strip()]
    return "\n".join(kept[-lines:])

"""Programming target conductances: exact writes or write-verify pulse rounds, vectorised over cells.

Write-verify loops over pulse *rounds*, never over cells: in every round each cell whose read-back
conductance is outside the tolerance gets one pulse towards its target (``apply_pulses`` of the device
model, all cells at once), then every cell is read back. Rows are programmed one after the other
(cells of a row in parallel), so a round takes ``rows * (t_pulse + t_verify)``.

Energy: a pulse of amplitude :math:`V_p` and width :math:`t_p` on a cell of conductance :math:`G` costs
:math:`V_p^2 G t_p`, a verify read :math:`v_\\mathrm{read}^2 G t_v`.

Examples
--------
>>> import numpy as np
>>> from neurosim.crossbar.config import Programming
>>> from neurosim.crossbar.device import DeviceAdapter
>>> dev = DeviceAdapter(None, g_min=1e-6, g_max=1e-4)
>>> r = program(dev, np.full((2, 2), 5e-5), Programming(), rng=np.random.default_rng(0))
>>> bool(np.allclose(r.G, 5e-5)), int(r.pulses.sum())
(True, 4)
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neurosim.crossbar.config import Programming
from neurosim.errors import ParameterError

__all__ = ["ProgramResult", "program"]


@dataclasses.dataclass
class ProgramResult:
    """What programming achieved.

    Attributes
    ----------
    G : ndarray
        Achieved conductances (S).
    state : ndarray
        Device states.
    pulses : ndarray of int
        Programming pulses per cell.
    rounds : int
        Pulse rounds spent.
    converged : ndarray of bool
        Cells within tolerance at the end.
    time : float
        Programming time (s).
    energy : float
        Programming energy (J), pulses and verify reads.
    """

    G: np.ndarray
    state: np.ndarray
    pulses: np.ndarray
    rounds: int
    converged: np.ndarray
    time: float
    energy: float


def program(dev, G_target: np.ndarray, prog: Programming, rng: np.random.Generator, c2c=None) -> ProgramResult:
    """Program the cells of one tile to ``G_target`` (S).

    Parameters
    ----------
    dev : DeviceAdapter
        The device and its window.
    G_target : ndarray (rows, cols)
        Target conductances (S).
    prog : Programming
        Method, tolerance, pulse limit, amplitudes and widths.
    rng : numpy.random.Generator
        For cycle-to-cycle noise.
    c2c : object, optional
        A cycle-to-cycle noise non-ideality passed to ``apply_pulses(noise=...)``.

    Returns
    -------
    ProgramResult

    Raises
    ------
    ParameterError
        ``write_verify`` with a device that has no ``apply_pulses``.

    Notes
    -----
    Write-verify round :math:`k`: :math:`e = G^* - G_k`; cells with :math:`|e| > \\tau (g_\\max - g_\\min)`
    get one pulse of polarity :math:`\\mathrm{sign}(e)`; :math:`G_{k+1}` is read back.
    """
    G_target = np.asarray(G_target, dtype=float)
    rows = G_target.shape[0]
    if prog.method == "exact":  # an idealised programmer: one pulse per cell lands on the target
        state = dev.state_for(G_target)
        G = dev.conductance(state)
        pulses = np.ones(G.shape, dtype=np.int64)
        energy = float(np.sum(prog.v_set**2 * G) * prog.t_pulse)
        return ProgramResult(G, state, pulses, 1, np.ones(G.shape, bool), rows * prog.t_pulse, energy)
    model = dev.model
    if not hasattr(model, "apply_pulses"):
        raise ParameterError(
            f"Programming: method='write_verify' needs a device model with apply_pulses (e.g. SoftBoundsDevice), "
            f"got {type(model).__name__}"
        )
    state = np.broadcast_to(np.asarray(getattr(model, "initial_state", dev.s_off), dtype=float), G_target.shape).copy()
    tol = prog.tolerance * (dev.g_max - dev.g_min)
    pulses = np.zeros(G_target.shape, dtype=np.int64)
    energy = 0.0
    rounds = 0
    G = dev.conductance(state)
    energy += float(np.sum(G) * dev.v_read**2 * prog.t_verify)
    for rounds in range(1, prog.max_pulses + 1):
        err = G_target - G
        need = np.abs(err) > tol
        if not need.any():
            rounds -= 1
            break
        polarity = np.where(need, np.sign(err), 0).astype(np.int64)
        v_p = np.where(polarity > 0, prog.v_set, prog.v_reset)
        energy += float(np.sum(np.where(need, v_p**2 * G, 0.0)) * prog.t_pulse)
        kwargs = {"rng": rng, "noise": c2c} if c2c is not None else {"rng": rng}
        state = np.asarray(model.apply_pulses(state, need.astype(np.int64), polarity, **kwargs), dtype=float)
        pulses += need
        G = dev.conductance(state)
        energy += float(np.sum(G) * dev.v_read**2 * prog.t_verify)
    converged = np.abs(G_target - G) <= tol
    time = rounds * rows * (prog.t_pulse + prog.t_verify)
    return ProgramResult(G, state, pulses, rounds, converged, time, energy)

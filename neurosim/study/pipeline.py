"""The main job's pieces: a small network trained in closed form on a benchmark task.

A random-weight recurrent cell is used as a reservoir (echo-state style: recurrent matrix scaled to
a spectral radius below 1) and only its output layer is trained, by ridge regression on the
digital hidden states. That takes well under a second, needs no BPTT, and gives a network with
a meaningful task metric to compare on hardware.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neurosim.cells import GRU, LSTM, RNN, Elman, IndRNN, Jordan, SecondOrderRNN
from neurosim.cells.base import RecurrentBase
from neurosim.errors import ParameterError
from neurosim.params import Param, check_params
from neurosim.reservoir import scale_spectral_radius
from neurosim.tasks import TASKS, RidgeReadout, SequenceTask, fit_ridge

__all__ = ["CELL_KINDS", "make_cell", "make_task", "TrainedNetwork", "train_network"]

CELL_KINDS = ("rnn", "lstm", "gru", "elman", "jordan", "indrnn", "second_order")

_CELL = {
    "kind": Param("choice", choices=CELL_KINDS),
    "input_size": Param("int", low=1),
    "hidden_size": Param("int", low=1),
    "output_size": Param("int", low=1),
    "spectral_radius": Param("real", low=0, low_open=True),
    "seed": Param("int", low=0),
}


def make_cell(kind: str, input_size: int, hidden_size: int, output_size: int = 1, spectral_radius: float = 0.9,
              seed: int = 0) -> RecurrentBase:
    r"""A float64 cell of the given kind with random weights, usable as a reservoir.

    For ``rnn`` and ``elman`` (tanh) the recurrent matrix is rescaled to the spectral radius
    :math:`\rho` (the echo-state condition of Jaeger 2001 for :math:`\rho < 1`) by
    :func:`neurosim.reservoir.scale_spectral_radius` (deterministic):

    .. math:: U \leftarrow \rho\, U / \max_i |\lambda_i(U)|

    Other kinds keep PyTorch's default initialisation (uniform :math:`\pm 1/\sqrt{H}`); IndRNN
    uses tanh (bounded states) instead of its default relu.

    Parameters
    ----------
    kind : {"rnn", "lstm", "gru", "elman", "jordan", "indrnn", "second_order"}
    input_size, hidden_size, output_size : int
        ``output_size`` is used by Elman and Jordan (their own output layer).
    spectral_radius : float
        :math:`\rho` for rnn and elman.
    seed : int
        Initialisation seed.

    Returns
    -------
    RecurrentBase

    Raises
    ------
    ParameterError
        Unknown kind or sizes out of range.

    Examples
    --------
    >>> cell = make_cell("rnn", 1, 20, seed=0)
    >>> round(float(np.max(np.abs(np.linalg.eigvals(cell.params["weight_hh_l0"])))), 6)
    0.9
    """
    p = check_params("make_cell", _CELL, dict(kind=kind, input_size=input_size, hidden_size=hidden_size,
                                               output_size=output_size, spectral_radius=spectral_radius, seed=seed))
    I, H, O, s = p["input_size"], p["hidden_size"], p["output_size"], p["seed"]
    f64 = np.float64
    cell = {
        "rnn": lambda: RNN(I, H, dtype=f64, seed=s),
        "lstm": lambda: LSTM(I, H, dtype=f64, seed=s),
        "gru": lambda: GRU(I, H, dtype=f64, seed=s),
        "elman": lambda: Elman(I, H, O, dtype=f64, seed=s),
        "jordan": lambda: Jordan(I, H, O, dtype=f64, seed=s),
        "indrnn": lambda: IndRNN(I, H, nonlinearity="tanh", dtype=f64, seed=s),
        "second_order": lambda: SecondOrderRNN(I, H, dtype=f64, seed=s),
    }[p["kind"]]()
    if p["kind"] in ("rnn", "elman"):  # the echo-state scaling of neurosim.reservoir (in place)
        scale_spectral_radius(cell.params["weight_hh_l0"], p["spectral_radius"])
    return cell


def make_task(name: str, n_steps: int, seed: int, batch_size: int | None = None) -> SequenceTask:
    """A task by its command-line name (``neurosim.tasks.TASKS``) with a sequence length of ``n_steps``.

    For the copy task ``n_steps`` is the recall delay; for digits the length is always 8.
    Regression tasks on one long sequence use batch 1; the adding and copy tasks use 64 sequences.

    Raises
    ------
    ParameterError
        Unknown task name.

    Examples
    --------
    >>> make_task("copy", 5, seed=0).inputs.shape      # delay 5 + 2 x 10 symbols, 64 sequences
    (25, 64, 10)
    """
    if name not in TASKS:
        raise ParameterError(f"make_task: name must be one of {', '.join(map(repr, TASKS))}, got {name!r}")
    if name in ("narma10", "mackey_glass", "sine"):
        return TASKS[name](n_steps=n_steps, batch_size=batch_size or 1, washout=min(100, n_steps // 5), seed=seed)
    if name == "adding":
        return TASKS[name](n_steps=n_steps, batch_size=batch_size or 64, seed=seed)
    if name == "copy":
        return TASKS[name](delay=n_steps, batch_size=batch_size or 64, seed=seed)
    return TASKS[name](n_samples=batch_size or 300, seed=seed)


@dataclasses.dataclass
class TrainedNetwork:
    """A cell with a trained output: either its own output layer (Elman) or a separate readout.

    Attributes
    ----------
    cell : RecurrentBase
    readout : RidgeReadout or None
        ``None`` when the readout was written into the cell's own output layer.
    train_metric : float
        Digital NRMSE (regression) or accuracy (classification) on the training sequences.
    """

    cell: RecurrentBase
    readout: RidgeReadout | None
    train_metric: float


def _states(cell: RecurrentBase, inputs: np.ndarray) -> np.ndarray:
    res = cell(inputs)
    first = res[0]
    return first[1] if isinstance(first, tuple) else first


def train_network(cell: RecurrentBase, task: SequenceTask, alpha: float = 1e-6) -> TrainedNetwork:
    r"""Fit the output layer of ``cell`` on ``task`` by ridge regression on its digital states.

    .. math:: (H^\top H + \alpha I)\, W_{out}^\top = H^\top Y

    A single-layer Elman network gets the fitted weights in its own ``weight_hy_l0`` /
    ``bias_y_l0`` (so the output layer runs on a crossbar too; its output activation must be
    identity); every other cell gets a separate digital :class:`~neurosim.tasks.RidgeReadout`.

    Parameters
    ----------
    cell : RecurrentBase
        Modified in place for Elman.
    task : SequenceTask
        Training data.
    alpha : float
        Ridge penalty.

    Returns
    -------
    TrainedNetwork

    Examples
    --------
    >>> net = train_network(make_cell("elman", 1, 20, seed=0), make_task("mackey_glass", 300, seed=0))
    >>> net.readout is None, bool(net.train_metric < 0.2)    # fitted into the Elman output layer
    (True, True)
    """
    from neurosim.tasks import accuracy, nrmse

    H = _states(cell, task.inputs)
    readout = fit_ridge(H, task.targets, alpha=alpha, mask=task.mask)
    pred = readout.predict(H)
    metric = nrmse(pred, task.targets, task.mask) if task.kind == "regression" else accuracy(pred, task.targets, task.mask)
    own_layer = isinstance(cell, Elman) and cell.num_layers == 1 and not cell.bidirectional \
        and cell.output_activation == "identity" and cell.output_size == task.n_outputs and cell.bias
    if own_layer:
        cell.load_state_dict({**cell.state_dict(), "weight_hy_l0": readout.weight, "bias_y_l0": readout.bias})
        return TrainedNetwork(cell, None, metric)
    return TrainedNetwork(cell, readout, metric)

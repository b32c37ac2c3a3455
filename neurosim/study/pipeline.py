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

__all__ = ["CELL_KINDS", "make_cell", "make_task", "TrainedNetwork", "train_network", "TrainedPair", "train_bptt"]

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


@dataclasses.dataclass
class TrainedPair:
    """The main job's two trained networks (same architecture, same start, same epoch budget).

    Attributes
    ----------
    plain, hwa : SequenceModel
        Trained digitally, and with the last ``hwa_epochs`` hardware-aware.
    plain_readout, hwa_readout : RidgeReadout or None
        Their linear heads as readouts of the hidden states (None when the cell has its own output layer).
    train_metric : float
        Digital NRMSE (regression) or accuracy (classification) of ``plain`` on the training sequences.
    seconds : float
        Training wall time (s).
    """

    plain: object
    hwa: object
    plain_readout: RidgeReadout | None
    hwa_readout: RidgeReadout | None
    train_metric: float
    seconds: float


def train_bptt(cell: RecurrentBase, task: SequenceTask, hardware, *, epochs: int = 60, hwa_epochs: int = 15,
               batch_size: int = 8, lr: float = 1e-2, hwa_lr: float = 3e-3, seed: int = 0) -> TrainedPair:
    r"""Train ``cell`` (with a linear head) by BPTT, then branch: plainly and hardware-aware.

    Both networks get ``epochs`` epochs of Adam on the task from the same initialisation: the first
    ``epochs - hwa_epochs`` digital and shared; then ``plain`` continues digitally (learning rate
    ``hwa_lr``) and ``hwa`` continues with :func:`~neurosim.train.hardware_aware_fit` on ``hardware``
    (a fresh simulated array per batch, straight-through gradients):

    .. math:: \theta_{plain} = \mathrm{fit}_{dig}^{k}(\theta_0), \qquad
              \theta_{hwa} = \mathrm{fit}_{hw}^{k}(\theta_0), \qquad
              \theta_0 = \mathrm{fit}_{dig}^{E - k}(\theta_{init})

    Parameters
    ----------
    cell : RecurrentBase
        Time-major cell (float64); Elman and Jordan use their own output layer (their ``output_size``
        must be the task's), every other cell gets a linear head.
    task : SequenceTask
        Training sequences (MSE on the scored steps, or cross-entropy for classification).
    hardware : HardwareConfig
        The hardware of the hardware-aware branch.
    epochs, hwa_epochs : int
        Total epochs, and the epochs of the branch (``0 <= hwa_epochs <= epochs``).
    batch_size : int
    lr, hwa_lr : float
        Adam learning rates of the shared part and of the branches.
    seed : int
        Readout initialisation, batch order, the hardware-aware device seeds.

    Returns
    -------
    TrainedPair

    Examples
    --------
    >>> from neurosim.analog import HardwareConfig
    >>> task = make_task("sine", 30, seed=0, batch_size=4)
    >>> pair = train_bptt(make_cell("lstm", 1, 4, seed=0), task, HardwareConfig(adc_bits=6), epochs=3, hwa_epochs=1)
    >>> pair.plain.cell is not pair.hwa.cell
    True
    """
    import time

    from neurosim.analog import to_digital
    from neurosim.tasks import accuracy, nrmse
    from neurosim.train import Adam, SequenceModel, fit, hardware_aware_fit

    p = check_params("train_bptt", {"epochs": Param("int", low=1), "hwa_epochs": Param("int", low=0),
                                    "batch_size": Param("int", low=1), "lr": Param("real", low=0, low_open=True),
                                    "hwa_lr": Param("real", low=0, low_open=True), "seed": Param("int", low=0)},
                     dict(epochs=epochs, hwa_epochs=hwa_epochs, batch_size=batch_size, lr=lr, hwa_lr=hwa_lr, seed=seed))
    if p["hwa_epochs"] > p["epochs"]:
        raise ParameterError(f"train_bptt: hwa_epochs must be in [0, epochs={epochs}], got {hwa_epochs}")
    t0 = time.perf_counter()
    own = isinstance(cell, (Elman, Jordan))
    loss = "cross_entropy" if task.kind == "classification" else "mse"
    model = SequenceModel(to_digital(cell), None if own else task.n_outputs, seed=seed)
    shared = p["epochs"] - p["hwa_epochs"]
    kw = dict(loss=loss, batch_size=p["batch_size"], seed=seed, progress=False)
    if shared:
        fit(model, task, optimizer=Adam(model.params, lr=p["lr"]), epochs=shared, **kw)
    hwa = model.with_cell(to_digital(model.cell))
    if p["hwa_epochs"]:
        fit(model, task, optimizer=Adam(model.params, lr=p["hwa_lr"]), epochs=p["hwa_epochs"], **kw)
        hardware_aware_fit(hwa, task, hardware, optimizer=Adam(hwa.params, lr=p["hwa_lr"]), epochs=p["hwa_epochs"],
                           **kw)
    pred = model.predict(task.inputs)
    metric = nrmse(pred, task.targets, task.mask) if task.kind == "regression" else accuracy(pred, task.targets, task.mask)

    def head(m):
        return None if own else RidgeReadout(m.head["head.weight"].copy(), m.head["head.bias"].copy(), 0.0)

    return TrainedPair(model, hwa, head(model), head(hwa), float(metric), time.perf_counter() - t0)

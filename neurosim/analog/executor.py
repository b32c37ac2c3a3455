r"""``to_analog``: the same cell, with its matrix products read from crossbars.

A cell's equations call four hooks (:mod:`neurosim.cells.ops`): ``matmul``, ``scale``,
``bilinear`` and ``activation``, and every cell delegates them to its ``ops`` object. The analog
cell is the digital cell itself (same class, a copy of its parameters) whose ``ops`` is an
:class:`AnalogOps`: every equation, shape check, stacking and direction logic is the digital
cell's code, unchanged, and the analog cell pickles like any cell.

How each weight reaches the hardware
------------------------------------
* ``weight_ih`` / ``weight_hh`` of RNN, LSTM, GRU: one crossbar each, the gate matrices side by
  side exactly as PyTorch stacks them (``(4H, I)`` for an LSTM's input weights), so all gates of
  a step are one read. Elman/Jordan ``weight_ih``, ``weight_hh`` / ``weight_yh``, ``weight_hy``:
  one crossbar each. Stacked layers and the reverse direction have their own crossbars
  (``weight_hh_l1_reverse``).
* IndRNN's element-wise recurrent weight :math:`u`: programmed on the diagonal of an ``H x H``
  crossbar; the off-diagonal cells hold weight 0 (both devices of a pair at the same conductance),
  so in ``device``/``circuit`` mode they contribute their real noise, leakage and sneak currents.
* Second-order tensor :math:`W_{ijk}`: reshaped to ``(H, H*K)`` and programmed as one crossbar;
  the periphery forms the outer product :math:`h_{t-1} \otimes x_t` (``H*K`` products) of the
  stored state and the input and drives the rows with it, so one read gives every
  :math:`\sum_{jk} W_{ijk} h_j x_k`.
* Biases, the element-wise gate products (LSTM :math:`f \odot c`, GRU :math:`r \odot n`) and
  the sum of partial tile results are digital periphery (exact).
* Activations go through :class:`~neurosim.analog.AnalogActivation`.

What drives each crossbar comes from the cell's own declaration (:meth:`RecurrentBase.weight_info`):
a weight driven by the network's external input (layer 0 ``input``) has the DAC full scale
``input_range``; every value the network computed (states, fed-back outputs, the previous layer's
output) is a stored state: it passes through the state storage (``HardwareConfig.state_bits``)
and has the DAC full scale ``state_range``; products of a state and an input have the product of
the two ranges.

Parameter updates
-----------------
The crossbars follow the cell's parameters automatically. At the start of every call (and of every
``step`` made from outside a call) each crossbar compares, at its first read, the weights it holds
with the live parameter, so an update in place (``params[k] *= 0.5``, an optimizer step) and an
assignment (``params[k] = W``, ``load_state_dict``) are both seen, and only the crossbars whose
weights changed are reprogrammed (:meth:`~neurosim.crossbar.Crossbar.program`: the same devices,
variability and faults, a new programming draw). There is no other way weights reach the hardware.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

import numpy as np

from neurosim.analog.hardware import HardwareConfig
from neurosim.cells.base import RecurrentBase, WeightInfo
from neurosim.cells.ops import DIGITAL
from neurosim.errors import ParameterError

__all__ = ["to_analog", "to_digital", "is_analog", "AnalogOps", "quantize_state"]


def quantize_state(x: np.ndarray, bits: int | None, full_scale: float) -> np.ndarray:
    r"""A stored state as a sign-magnitude ADC of ``bits`` bits over ``[-full_scale, full_scale]`` holds it.

    .. math::

        x_q = \frac{s}{N}\,\mathrm{round}\!\Big(N\,\mathrm{clip}\big(\tfrac{x}{s}, -1, 1\big)\Big),
        \qquad N = 2^{b-1} - 1

    Parameters
    ----------
    x : ndarray
        State values (normalised units).
    bits : int or None
        ``None``: sample-and-hold, returns ``x`` itself.
    full_scale : float
        :math:`s`.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> quantize_state(np.array([0.26, -2.0, 0.9]), 3, 1.0).tolist()
    [0.3333333333333333, -1.0, 1.0]
    """
    if bits is None:
        return x
    n = 2 ** (bits - 1) - 1
    q = np.clip(x / full_scale, -1.0, 1.0)
    q = np.round(q * n)
    q *= full_scale / n
    return q.astype(x.dtype, copy=False)


class AnalogOps:
    """Crossbar arithmetic behind a cell's hooks (the ``ops`` of an analog cell).

    Built by :func:`to_analog`; one crossbar per weight of the cell, created at first use.

    Parameters
    ----------
    hardware : HardwareConfig
    weights : dict of str to WeightInfo
        The cell's :meth:`~neurosim.cells.base.RecurrentBase.weight_info`.

    Attributes
    ----------
    hardware : HardwareConfig
        The configuration it was built with.
    crossbars : OrderedDict of str to Crossbar
        One crossbar per weight, keyed by the weight's ``state_dict`` name.
    programmings : dict of str to int
        How many times each crossbar was programmed (1 when built, +1 per reprogramming).
    probe : callable or None
        ``probe(name, W, X_read, Y)`` after every read (diagnostics, e.g. :func:`neurosim.study.compare`);
        ``W`` the matrix the crossbar holds, ``X_read`` the inputs as the DAC received them.
        Not pickled.
    """

    def __init__(self, hardware: HardwareConfig, weights: dict[str, WeightInfo]):
        self.hardware = hardware
        self.weights = dict(weights)
        self.crossbars: OrderedDict[str, Any] = OrderedDict()
        self.programmings: dict[str, int] = {}
        self.probe = None
        self._act = hardware.activation_impl()
        self._held: dict[str, np.ndarray] = {}  # name -> the parameter values the crossbar holds
        self._checked: dict[str, Any] = {}  # name -> parameter object compared with the crossbar in this call
        self._reads: dict[str, int] = {}  # name -> reads since the call began (read times with step_time)

    # ------------------------------------------------------------------------ parameters -> crossbars
    def begin(self, cell) -> None:
        """Start of a call: every crossbar checks its weights again at its next read; times restart."""
        self._checked.clear()
        self._reads.clear()

    def _info(self, name: str) -> WeightInfo:
        try:
            return self.weights[name]
        except KeyError:
            raise ParameterError(
                f"analog: the cell does not declare what drives weight {name!r} (declared: {sorted(self.weights)}); "
                "list its generic name in the cell class's _drives table"
            ) from None

    def _crossbar(self, name: str, param: np.ndarray, matrix=None):
        """The crossbar holding ``param`` (``matrix(param)`` is what is programmed), synchronised."""
        if self._checked.get(name) is param:
            return self.crossbars[name]
        held = self._held.get(name)
        if held is None or held.shape != param.shape or not np.array_equal(held, param):
            W = np.asarray(param if matrix is None else matrix(param), dtype=np.float64)
            xb = self.crossbars.get(name)
            if xb is not None and xb.n_out == W.shape[0] and xb.n_in == W.shape[1]:
                xb.program(W)
            else:
                from neurosim.crossbar import Crossbar  # lower layer, imported late to keep import time small

                self.crossbars[name] = Crossbar(W, self.hardware.crossbar_config(name, self._info(name)),
                                                seed=self.hardware.crossbar_seed(name))
            self.programmings[name] = self.programmings.get(name, 0) + 1
            self._held[name] = np.array(param, dtype=param.dtype, copy=True)
        self._checked[name] = param
        return self.crossbars[name]

    def adopt(self, cell) -> list:
        r"""Read the weights back from the crossbars into ``cell``'s parameters, without reprogramming.

        For every crossbar holding a weight matrix, :math:`W \leftarrow W_{read}` (the crossbar's
        :attr:`~neurosim.crossbar.Crossbar.weights`, :math:`(G^+ - G^-)/s`), written in place into
        ``cell.params[name]``; the crossbar is then taken to hold exactly that parameter, so the next
        call reads the devices as they are. This is how on-chip learning sees an array changed in
        place (:meth:`~neurosim.crossbar.Crossbar.apply_pulses`, read disturb).

        Parameters
        ----------
        cell : RecurrentBase
            The analog cell whose ``ops`` this is.

        Returns
        -------
        list of str
            The weights read back.

        Raises
        ------
        ParameterError
            A crossbar that holds no weight matrix of ``cell`` (IndRNN's diagonal, a second-order tensor).

        Examples
        --------
        >>> from neurosim.cells import RNN
        >>> from neurosim.crossbar import CrossbarConfig
        >>> a = to_analog(RNN(2, 2, dtype=np.float64, seed=0), HardwareConfig(crossbar_options={"levels": 5}))
        >>> _ = a(np.ones((1, 1, 2)))                       # builds and programs the crossbars
        >>> a.ops.adopt(a)
        ['weight_ih_l0', 'weight_hh_l0']
        >>> bool(np.array_equal(a.params["weight_hh_l0"], a.ops.crossbars["weight_hh_l0"].weights))
        True
        """
        names = []
        for name, xb in self.crossbars.items():
            param = cell.params.get(name)
            if param is None or param.ndim != 2 or param.shape != (xb.n_out, xb.n_in):
                raise ParameterError(f"AnalogOps.adopt: crossbar {name!r} must hold a weight matrix of the cell "
                                     f"(shape ({xb.n_out}, {xb.n_in})), got {None if param is None else param.shape}")
            param[...] = xb.weights
            self._held[name] = np.array(param, copy=True)
            self._checked.pop(name, None)
            names.append(name)
        return names

    def _stored(self, x: np.ndarray) -> np.ndarray:
        hw = self.hardware
        return quantize_state(x, hw.state_bits, hw.state_range)

    def _driven(self, info: WeightInfo, X: np.ndarray) -> np.ndarray:
        """The rows' values as the DAC receives them (stored states pass through the state storage)."""
        return X if info.reads_external_input else self._stored(X)

    # ------------------------------------------------------------------------------------ reads
    def _read(self, name: str, xb, W, X: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        hw = self.hardware
        n_out = xb.n_out
        if hw.step_time is None and self.probe is None and out is not None and X.ndim == 2 \
                and out.flags.c_contiguous and out.dtype == X.dtype:
            return xb.matmul(X, t=self._fixed_time(), out=out)  # the per-step recurrent read: into the cell's buffer
        if hw.step_time is not None and X.ndim == 3:
            # an input projection of a whole sequence: each step is read at its own time
            Y = np.stack([xb.matmul(X[t], t=self._next_time(name)) for t in range(X.shape[0])])
        else:
            t = self._fixed_time() if hw.step_time is None else self._next_time(name)
            Y = xb.matmul(X.reshape(-1, X.shape[-1]), t=t)
        Y = Y.reshape(X.shape[:-1] + (n_out,))
        if self.probe is not None:
            self.probe(name, W, X, Y)
        if out is None:
            return Y.astype(X.dtype, copy=False)
        out[...] = Y
        return out

    def _fixed_time(self):
        """The read time without ``step_time``: ``t_start`` (s), or None (no time) when it is 0."""
        return self.hardware.t_start if self.hardware.t_start > 0 else None

    def _next_time(self, name: str) -> float:
        """Read number k of a crossbar in a call happens at ``t_start + k * step_time`` after programming."""
        k = self._reads.get(name, 0)
        self._reads[name] = k + 1
        return self.hardware.t_start + k * self.hardware.step_time

    # ------------------------------------------------------------------------------------ hooks
    def matmul(self, name: str, W: np.ndarray, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``X @ W.T`` read from the crossbar holding ``W`` (the contract of the digital hook)."""
        info = self._info(name)
        xb = self._crossbar(name, W)
        return self._read(name, xb, W, self._driven(info, X), out)

    def scale(self, name: str, u: np.ndarray, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``u * X`` read from a crossbar holding ``diag(u)`` (IndRNN's recurrent weight)."""
        info = self._info(name)
        xb = self._crossbar(name, u, np.diag)
        return self._read(name, xb, np.diag(u) if self.probe is not None else None, self._driven(info, X), out)

    def bilinear(self, name: str, W: np.ndarray, h: np.ndarray, x: np.ndarray, out: np.ndarray | None = None):
        r""":math:`\sum_{jk} W_{ijk} h_j x_k` from a crossbar holding ``W`` as ``(out, n_h n_x)``,
        its rows driven by the products of the stored state ``h`` and the input ``x``."""
        info = self._info(name)
        flat = lambda w: w.reshape(w.shape[0], -1)  # noqa: E731 - the programmed matrix of the tensor
        xb = self._crossbar(name, W, flat)
        hq = self._stored(h)
        xq = x if info.layer == 0 else self._stored(x)
        hx = (hq[:, :, None] * xq[:, None, :]).reshape(h.shape[0], -1)
        return self._read(name, xb, flat(W), hx, out)

    def activation(self, kind: str, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The periphery's transfer curve for ``kind`` (see :class:`~neurosim.analog.AnalogActivation`)."""
        return self._act(kind, x, out)

    # ------------------------------------------------------------------------------------ costs
    def cost(self) -> dict:
        """Energy (J), latency (s) and area (m^2) summed over every crossbar, and per crossbar.

        Returns
        -------
        dict
            ``{"total": {...}, "per_crossbar": {name: {...}}}`` with the crossbars' counters
            (``neurosim.crossbar.Cost.to_dict``); latency is the serial sum of read times.
        """
        per = {name: xb.cost().to_dict() for name, xb in self.crossbars.items()}
        total: dict[str, float] = {}
        for d in per.values():
            for k, v in d.items():
                total[k] = total.get(k, 0) + v
        return {"total": total, "per_crossbar": per}

    def reset_cost(self) -> None:
        """Zero the counters of every crossbar (areas stay), e.g. to count one sequence's reads only."""
        for xb in self.crossbars.values():
            xb.reset_cost()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["probe"] = None  # a diagnostic callback, often a closure
        state["_checked"] = {}  # identities mean nothing in another process
        return state

    def __repr__(self) -> str:
        return f"AnalogOps({self.hardware.read_mode!r}, crossbars={list(self.crossbars)})"


def is_analog(cell: RecurrentBase) -> bool:
    """Whether ``cell`` runs on crossbars (its ``ops`` is an :class:`AnalogOps`)."""
    return isinstance(getattr(cell, "ops", None), AnalogOps)


def _copy_cell(cell: RecurrentBase) -> RecurrentBase:
    twin = copy.copy(cell)
    twin.params = OrderedDict((k, v.copy()) for k, v in cell.params.items())
    return twin


def to_digital(cell: RecurrentBase) -> RecurrentBase:
    """The digital twin of a cell: same class, a copy of its parameters, exact arithmetic.

    Parameters
    ----------
    cell : RecurrentBase
        An analog or digital cell.

    Returns
    -------
    RecurrentBase
    """
    if not isinstance(cell, RecurrentBase):
        raise ParameterError(f"to_digital: cell must be a neurosim.cells cell, got {type(cell).__name__}")
    twin = _copy_cell(cell)
    twin.ops = DIGITAL
    return twin


def to_analog(cell: RecurrentBase, hardware: HardwareConfig | None = None) -> RecurrentBase:
    r"""The analog twin of a cell: identical call and return values, crossbar arithmetic.

    .. math::

        W x \;\longrightarrow\; \mathrm{ADC}\big(G_{prog}\,\mathrm{DAC}(x)\big)
        \quad\text{for every weight matrix of every layer and direction}

    The returned object is an instance of ``type(cell)`` with a copy of the cell's parameters and
    ``ops = AnalogOps(hardware, cell.weight_info())``; see the module docstring for how each weight
    is mapped and how parameter updates reach the crossbars.

    Parameters
    ----------
    cell : RecurrentBase
        Any cell of :mod:`neurosim.cells` (RNN, LSTM, GRU, Elman, Jordan, IndRNN, SecondOrderRNN;
        stacked and bidirectional included); an analog cell is rebuilt from its parameters.
    hardware : HardwareConfig, optional
        Default ``HardwareConfig()``: ideal crossbars and converters, which reproduce the digital
        cell to rounding.

    Returns
    -------
    RecurrentBase
        ``analog(input, hx)`` returns exactly what ``cell(input, hx)`` returns (same shapes, dtype);
        ``analog.ops`` holds the crossbars, their costs and the hardware.

    Raises
    ------
    ParameterError
        ``cell`` is not a neurosim cell, or ``hardware`` is not a HardwareConfig.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.cells import GRU
    >>> gru = GRU(3, 5, dtype=np.float64, seed=0)
    >>> analog = to_analog(gru)          # ideal crossbars
    >>> x = np.random.default_rng(0).normal(size=(4, 2, 3))
    >>> bool(np.max(np.abs(analog(x)[0] - gru(x)[0])) < 1e-12)
    True
    >>> sorted(analog.ops.crossbars)
    ['weight_hh_l0', 'weight_ih_l0']
    """
    if not isinstance(cell, RecurrentBase):
        raise ParameterError(f"to_analog: cell must be a neurosim.cells cell, got {type(cell).__name__}")
    if hardware is None:
        hardware = HardwareConfig()
    if not isinstance(hardware, HardwareConfig):
        raise ParameterError(f"to_analog: hardware must be a HardwareConfig, got {type(hardware).__name__}")
    analog = _copy_cell(cell)
    analog.ops = AnalogOps(hardware, cell.weight_info())
    return analog

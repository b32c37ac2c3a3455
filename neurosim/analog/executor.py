r"""``to_analog``: the same cell, with its matrix products read from crossbars.

A cell's equations call three hooks (:mod:`neurosim.cells`): ``matmul``, ``scale`` and
``activation``. The analog cell is a subclass of the digital cell's own class that overrides
exactly these hooks, so every equation, shape check, stacking and direction logic is the digital
cell's code, unchanged.

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
  the periphery forms the outer product :math:`h_{t-1} \otimes x_t` (``H*K`` products) and drives
  the rows with it, so one read gives every :math:`\sum_{jk} W_{ijk} h_j x_k`.
* Biases, the element-wise gate products (LSTM :math:`f \odot c`, GRU :math:`r \odot n`) and
  the sum of partial tile results are digital periphery (exact).
* Activations go through :class:`~neurosim.analog.AnalogActivation`; stored states pass through
  the state storage (``HardwareConfig.state_bits``) where a crossbar reads them.
"""

from __future__ import annotations

import copy
import re
from collections import OrderedDict
from typing import Any

import numpy as np

from neurosim.analog.hardware import HardwareConfig
from neurosim.cells.base import RecurrentBase
from neurosim.errors import ParameterError

__all__ = ["to_analog", "AnalogCell", "quantize_state"]

_SMALL = 1 << 14  # weights up to this many entries are compared by value when the array object changes
_LAYER = re.compile(r"_l(\d+)")


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


class AnalogCell:
    """Mixin placed before a digital cell class: crossbar reads instead of exact matrix products.

    Not instantiated directly: :func:`to_analog` builds ``type("AnalogLSTM", (AnalogCell, LSTM))``.

    Attributes
    ----------
    hardware : HardwareConfig
        The configuration it was built with.
    crossbars : OrderedDict of str to Crossbar
        One crossbar per weight, keyed by the weight's ``state_dict`` name (built on first use).
    """

    hardware: HardwareConfig
    _DIGITAL_CLASS: type

    # --------------------------------------------------------------------------------- set-up
    def _init_analog(self, hardware: HardwareConfig) -> None:
        self.hardware = hardware
        self.crossbars: OrderedDict[str, Any] = OrderedDict()
        self._programmed: dict[str, tuple] = {}
        self._act = hardware.activation_impl()
        self._probe = None  # callable(name, W_effective, X_read, Y) used by neurosim.study for diagnostics
        self._step_index: dict[str, int] = {}
        self._diag: dict[str, tuple] = {}
        self._frozen: dict[str, Any] = {}

    def program(self) -> "AnalogCell":
        """(Re)program every crossbar from the current parameters (otherwise done lazily at first use).

        Call after changing parameters in place; :meth:`load_state_dict` reprograms by itself.

        Returns
        -------
        AnalogCell
            ``self``.
        """
        self.crossbars.clear()
        self._programmed.clear()
        self._frozen.clear()
        return self

    def load_state_dict(self, state_dict, strict: bool = True):
        """As the digital cell's, then forget the programmed crossbars (they are rebuilt on use)."""
        result = super().load_state_dict(state_dict, strict=strict)
        self.program()
        return result

    def digital(self) -> RecurrentBase:
        """The digital twin: a digital cell with a copy of this cell's parameters."""
        twin = copy.copy(self)
        twin.__class__ = self._DIGITAL_CLASS
        for attr in ("hardware", "crossbars", "_programmed", "_act", "_probe", "_step_index", "_diag", "_frozen"):
            twin.__dict__.pop(attr, None)
        twin.params = OrderedDict((k, v.copy()) for k, v in self.params.items())
        return twin

    def _crossbar(self, name: str, W: np.ndarray):
        """The crossbar holding ``W`` (programmed on first use or when ``W`` changed)."""
        from neurosim.crossbar import Crossbar  # lower layer, imported late to keep import time small

        key = (W.__array_interface__["data"][0], W.shape, W.strides)
        entry = self._programmed.get(name)
        if entry is not None:
            if entry[0] == key:
                return self.crossbars[name]
            if entry[1] is not None and entry[1].shape == W.shape and np.array_equal(entry[1], W):
                self._programmed[name] = (key, entry[1])
                return self.crossbars[name]
        cfg = self.hardware.crossbar_config(name)
        self.crossbars[name] = Crossbar(np.asarray(W, dtype=np.float64), cfg, seed=self.hardware.crossbar_seed(name))
        self._programmed[name] = (key, W.copy() if W.size <= _SMALL else None)
        self._step_index[name] = 0
        return self.crossbars[name]

    # ----------------------------------------------------------------------------------- hooks
    def _stores_quantized(self, name: str) -> bool:
        """Whether the input of ``name`` is a stored state that the state ADC quantizes."""
        hw = self.hardware
        return hw.state_bits is not None and not hw.reads_external_input(name) and not name.startswith("weight_l")

    def _read_input(self, name: str, X: np.ndarray) -> np.ndarray:
        if self._stores_quantized(name):
            return quantize_state(X, self.hardware.state_bits, self.hardware.state_range)
        return X

    def _read(self, name: str, W: np.ndarray, X: np.ndarray) -> np.ndarray:
        xb = self._crossbar(name, W)
        Xr = self._read_input(name, X)
        flat = Xr.reshape(-1, Xr.shape[-1])
        hw = self.hardware
        if hw.step_time is not None and Xr.ndim > 2:
            # an input projection of a whole sequence: each step is read at its own time
            Y = np.stack([self._read_at(name, xb, Xr[t]) for t in range(Xr.shape[0])])
        elif hw.step_time is not None:
            Y = self._read_at(name, xb, flat)
        else:
            Y = xb.matmul(flat)
        Y = np.asarray(Y).reshape(X.shape[:-1] + (W.shape[0],))
        if self._probe is not None:
            self._probe(name, W, Xr, Y)
        return Y

    def _read_at(self, name: str, xb, X2: np.ndarray) -> np.ndarray:
        """Read number k of this crossbar in the sequence happens at ``t_start + k * step_time``."""
        k = self._step_index[name]
        self._step_index[name] = k + 1
        t = self.hardware.t_start + k * self.hardware.step_time
        return xb.matmul(X2, t=t)

    def matmul(self, name: str, W: np.ndarray, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``X @ W.T`` read from the crossbar holding ``W`` (same contract as the digital hook)."""
        if (out is not None and X.ndim == 2 and self._probe is None and self.hardware.step_time is None
                and out.flags.c_contiguous and out.dtype == X.dtype and not self._stores_quantized(name)):
            # the per-step recurrent read: straight into the cell's buffer
            return self._crossbar(name, W).matmul(X, out=out)
        Y = self._read(name, W, X)
        if out is None:
            return Y.astype(self.dtype, copy=False)
        out[...] = Y
        return out

    def scale(self, name: str, u: np.ndarray, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``u * X`` read from a crossbar holding ``diag(u)`` (IndRNN's recurrent weight)."""
        D = self._diag.get(name)
        if D is None or D[0].shape != u.shape or not np.array_equal(D[0], u):
            D = self._diag[name] = (u.copy(), np.diag(u))  # same array object -> no reprogramming
        return self.matmul(name, D[1], X, out=out)

    def activation(self, kind: str, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The periphery's transfer curve for ``kind`` (see :class:`~neurosim.analog.AnalogActivation`)."""
        return self._act(kind, x, out)

    def _forward(self, input, hx):
        self._step_index = {k: 0 for k in self._step_index}  # every sequence starts at t_start
        return super()._forward(input, hx)

    # --------------------------------------------------------------------------------- costs
    def cost(self) -> dict:
        """Energy (J), latency (s) and area (m^2) summed over every crossbar, and per crossbar.

        Returns
        -------
        dict
            ``{"total": {...}, "per_crossbar": {name: {...}}}`` with the crossbars' counters
            (``neurosim.crossbar.Cost.to_dict``); latency is the serial sum of read times.
        """
        per = {name: _cost_of(xb).to_dict() for name, xb in self.crossbars.items()}
        total: dict[str, float] = {}
        for d in per.values():
            for k, v in d.items():
                total[k] = total.get(k, 0) + v
        return {"total": total, "per_crossbar": per}

    def reset_cost(self) -> None:
        """Zero the counters of every crossbar (areas stay), e.g. to count one sequence's reads only."""
        for xb in self.crossbars.values():
            _cost_of(xb).reset()

    def __repr__(self) -> str:
        return f"{super().__repr__()} on {self.hardware.read_mode!r} crossbars"


def _cost_of(xb):
    """The crossbar's live :class:`~neurosim.crossbar.Cost` (a method or an attribute)."""
    cost = xb.cost
    return cost() if callable(cost) else cost


_CLASSES: dict[type, type] = {}


def _analog_class(cls: type) -> type:
    if cls not in _CLASSES:
        _CLASSES[cls] = type("Analog" + cls.__name__, (AnalogCell, cls), {"_DIGITAL_CLASS": cls, "__module__": __name__})
    return _CLASSES[cls]


def to_analog(cell: RecurrentBase, hardware: HardwareConfig | None = None) -> RecurrentBase:
    r"""The analog twin of a digital cell: identical call and return values, crossbar arithmetic.

    .. math::

        W x \;\longrightarrow\; \mathrm{ADC}\big(G_{prog}\,\mathrm{DAC}(x)\big)
        \quad\text{for every weight matrix of every layer and direction}

    The returned object is an instance of a subclass of ``type(cell)`` (``isinstance`` holds), with
    a copy of the cell's parameters; see the module docstring for how each weight is mapped.

    Parameters
    ----------
    cell : RecurrentBase
        Any digital cell of :mod:`neurosim.cells` (RNN, LSTM, GRU, Elman, Jordan, IndRNN,
        SecondOrderRNN; stacked and bidirectional included).
    hardware : HardwareConfig, optional
        Default ``HardwareConfig()``: ideal crossbars and converters, which reproduce the digital
        cell to rounding.

    Returns
    -------
    AnalogCell
        ``analog(input, hx)`` returns exactly what ``cell(input, hx)`` returns (same shapes, dtype).

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
    """
    if not isinstance(cell, RecurrentBase):
        raise ParameterError(f"to_analog: cell must be a neurosim.cells cell, got {type(cell).__name__}")
    if isinstance(cell, AnalogCell):
        cell = cell.digital()
    if hardware is None:
        hardware = HardwareConfig()
    if not isinstance(hardware, HardwareConfig):
        raise ParameterError(f"to_analog: hardware must be a HardwareConfig, got {type(hardware).__name__}")
    analog = copy.copy(cell)
    analog.__class__ = _analog_class(type(cell))
    analog.params = OrderedDict((k, v.copy()) for k, v in cell.params.items())
    analog._init_analog(hardware)
    return analog

r"""Dynamic-memristor reservoir: the devices' own volatile state is the reservoir.

After Du et al. (Nat. Commun. 8, 2204, 2017) and Zhong et al. (Nat. Commun. 12, 408, 2021). Each
input sample :math:`u_k` is multiplied by a mask of :math:`M` values and applied as :math:`M`
consecutive voltage pulses (time multiplexing: :math:`M` virtual nodes per device); :math:`N`
parallel devices with different masks give :math:`N M` features per sample, read after each pulse;
a ridge readout is trained on them. With :math:`\tilde u_k \in [-1, 1]` the input normalised by the
training range and :math:`m_{nj} \in \{-1, +1\}` the mask of reservoir :math:`n`:

.. math::

    V_{k,nj} = V_{min} + (V_{max} - V_{min}) \frac{m_{nj} \tilde u_k + 1}{2}, \qquad
    w_{n} \leftarrow \Phi_{t_p}(w_{n}, V_{k,nj}), \qquad
    s_{k,nj} = i(w_{n}, v_{read}) / (G_{on} v_{read})

where :math:`\Phi_{t_p}` is the device's exact state update over one pulse of width :math:`t_p`
(:meth:`~neurosim.devices.VolatileMemristor.step`: exponential relaxation with time constant
:math:`\tau`) and :math:`s` the normalised read current (the read itself is assumed short and
non-disturbing). The output is :math:`\hat y_k = W_{out} s_k + b`.
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Param, check_array, check_params
from neurosim.seeding import check_seed
from neurosim.seeding import rng as seeded_rng
from neurosim.tasks import RidgeReadout, fit_ridge

__all__ = ["DynamicReservoir"]

_PARAMS = {
    "n_reservoirs": Param("int", low=1),
    "mask_length": Param("int", low=1),
    "v_min": Param("real", unit="V", low=-20, high=20),
    "v_max": Param("real", unit="V", low=-20, high=20),
    "t_pulse": Param("real", unit="s", low=0, low_open=True, high=1),
    "v_read": Param("real", unit="V", low=0, low_open=True, high=20),
    "ridge": Param("real", low=0),
    "warmup": Param("int", low=0),
    "device": Param("any"),
}


class DynamicReservoir:
    r"""A reservoir of :math:`N` volatile memristors driven through :math:`M`-step masks.

    .. math::

        V_{k,nj} = V_{min} + (V_{max} - V_{min})\,\frac{m_{nj}\tilde u_k + 1}{2},\quad
        w_n \leftarrow \Phi_{t_p}(w_n, V_{k,nj}),\quad
        s_{k,nj} = \frac{i(w_n, v_{read})}{G_{on} v_{read}},\quad \hat y_k = W_{out} s_k + b

    Parameters
    ----------
    n_reservoirs : int
        :math:`N`, parallel devices with independent random masks.
    mask_length : int
        :math:`M`, pulses (virtual nodes) per input sample.
    v_min, v_max : float
        Pulse voltage range (V); Zhong et al. used -0.8 V and 2.5 V.
    t_pulse : float
        Pulse width (s); one sample lasts :math:`M t_p`.
    v_read : float
        Read voltage (V).
    ridge : float
        Ridge penalty of the readout.
    warmup : int
        Leading samples left out of the regression.
    device : str or VolatileMemristor
        Device card name (default ``"dynamic_tiox_zhong2021"``) or model.
    seed : int
        Seed of the masks.

    Attributes
    ----------
    mask_ : ndarray, shape (N, M)
    readout_ : RidgeReadout
    u_range_ : tuple of float
        Input range seen in ``fit`` (maps to :math:`\tilde u = \pm 1`).

    Raises
    ------
    ParameterError
        A parameter out of range, ``v_min >= v_max``, a device without ``step``.

    Examples
    --------
    >>> from neurosim.tasks.henon import henon_series
    >>> from neurosim.tasks import nrmse
    >>> x = henon_series(1201)
    >>> r = DynamicReservoir(n_reservoirs=25, mask_length=4, warmup=20, seed=0)
    >>> pred = r.fit(x[:1000], x[1:1001]).predict(x[1000:-1])
    >>> bool(nrmse(pred, x[1001:]) < 0.2)
    True
    """

    def __init__(self, n_reservoirs: int = 25, mask_length: int = 4, v_min: float = -0.8, v_max: float = 2.5,
                 t_pulse: float = 50e-6, v_read: float = 0.1, ridge: float = 1e-6, warmup: int = 20,
                 device="dynamic_tiox_zhong2021", seed: int = 0):
        self.n_reservoirs = n_reservoirs
        self.mask_length = mask_length
        self.v_min = v_min
        self.v_max = v_max
        self.t_pulse = t_pulse
        self.v_read = v_read
        self.ridge = ridge
        self.warmup = warmup
        self.device = device
        self.seed = seed
        self._validate()

    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters (scikit-learn convention)."""
        return {name: getattr(self, name) for name in (*_PARAMS, "seed")}

    def set_params(self, **params) -> "DynamicReservoir":
        """Set constructor parameters (checked); drops the fit. Returns ``self``."""
        allowed = (*_PARAMS, "seed")
        bad = [k for k in params if k not in allowed]
        if bad:
            raise ParameterError(f"DynamicReservoir: set_params got unknown parameter {bad[0]!r}; allowed: {sorted(allowed)}")
        old = self.get_params()
        for k, v in params.items():
            setattr(self, k, v)
        try:
            self._validate()
        except ParameterError:
            for k, v in old.items():
                setattr(self, k, v)
            raise
        self.__dict__.pop("readout_", None)
        return self

    def _validate(self) -> None:
        check_params("DynamicReservoir", _PARAMS, {k: getattr(self, k) for k in _PARAMS})
        check_seed("DynamicReservoir", self.seed)
        if not self.v_min < self.v_max:
            raise ParameterError(f"DynamicReservoir: v_min must be < v_max, got v_min={self.v_min!r}, v_max={self.v_max!r} V")
        if isinstance(self.device, str):
            from neurosim.devices import load_device

            self.model_ = load_device(self.device)
        else:
            self.model_ = self.device
        if not (hasattr(self.model_, "step") and hasattr(self.model_, "current")):
            raise ParameterError(f"DynamicReservoir: device must be a card name or a device model with step() and current(), "
                                 f"got {self.device!r}")
        g = seeded_rng(self.seed, "mask")
        self.mask_ = np.where(g.random((self.n_reservoirs, self.mask_length)) < 0.5, -1.0, 1.0)

    def _seq(self, name, X):
        X = check_array("DynamicReservoir", name, X, ndim=(1, 2, 3))
        squeeze = X.ndim < 3
        if X.ndim == 1:
            X = X[:, None]
        X3 = X[:, None, :] if X.ndim == 2 else X
        return X3.astype(np.float64, copy=False), squeeze

    def features(self, u) -> np.ndarray:
        """Normalised read currents after every pulse, from relaxed devices.

        Parameters
        ----------
        u : array_like, shape (time,) or (time, batch)
            One input channel.

        Returns
        -------
        ndarray, shape (time, N*M) or (time, batch, N*M)
        """
        U = check_array("DynamicReservoir", "u", u, ndim=(1, 2))
        single = U.ndim == 1
        U = U[:, None] if single else U
        lo, hi = getattr(self, "u_range_", (float(U.min()), float(U.max())))
        span = hi - lo if hi > lo else 1.0
        ut = 2.0 * (U - lo) / span - 1.0  # (T, B)
        m = self.model_
        N, M = self.mask_.shape
        # (T, B, N, M) pulse voltages
        V = self.v_min + (self.v_max - self.v_min) * (self.mask_[None, None] * ut[:, :, None, None] + 1.0) / 2.0
        w = np.full((U.shape[1], N), float(np.asarray(m.initial_state).mean()))
        out = np.empty((U.shape[0], U.shape[1], N, M))
        norm = 1.0 / float(np.max(np.asarray(m.current(1.0, self.v_read))))
        for k in range(U.shape[0]):  # the devices' dynamics are sequential in time; vectorized over batch x devices
            for j in range(M):
                w = m.step(w, V[k, :, :, j], self.t_pulse)
                out[k, :, :, j] = w
        S = np.asarray(m.current(out, self.v_read)) * norm
        S = S.reshape(U.shape[0], U.shape[1], N * M)
        return S[:, 0] if single else S

    def fit(self, u, y) -> "DynamicReservoir":
        """Fit the readout on the features of ``u`` (after ``warmup``) to ``y``; returns ``self``.

        Parameters
        ----------
        u : array_like, shape (time,) or (time, batch)
        y : array_like, shape (time,) or (time, n_outputs)

        Raises
        ------
        ParameterError
            Mismatched lengths, ``warmup >= time``, a constant input.
        """
        U = check_array("DynamicReservoir", "u", u, ndim=(1, 2))
        Y = check_array("DynamicReservoir", "y", y, ndim=(1, 2))
        if Y.shape[0] != U.shape[0]:
            raise ParameterError(f"DynamicReservoir: u and y must have the same length, got {U.shape[0]} and {Y.shape[0]}")
        if self.warmup >= U.shape[0]:
            raise ParameterError(f"DynamicReservoir: warmup must be < the number of samples {U.shape[0]}, got {self.warmup}")
        lo, hi = float(U.min()), float(U.max())
        if not hi > lo:
            raise ParameterError("DynamicReservoir: u must not be constant (its range maps to [v_min, v_max])")
        self.u_range_ = (lo, hi)
        S = self.features(U)
        if S.ndim == 3:
            raise ParameterError("DynamicReservoir: fit takes one sequence, u of shape (time,)")
        Y2 = Y[:, None] if Y.ndim == 1 else Y
        self.readout_: RidgeReadout = fit_ridge(S[self.warmup :], Y2[self.warmup :], alpha=self.ridge)
        self._squeeze = Y.ndim == 1
        return self

    def predict(self, u) -> np.ndarray:
        """Readout of the features of ``u`` (devices start relaxed); shape of ``y`` in ``fit``."""
        if not hasattr(self, "readout_"):
            raise ParameterError("DynamicReservoir: call fit before predict")
        out = self.readout_.predict(self.features(u))
        return out[..., 0] if self._squeeze else out

"""The protocol every device model implements, and the helpers they share.

A device model is a frozen dataclass of parameters (SI units) with pure, vectorised methods::

    current(state, v)        -> A        port current for the port voltage v (V)
    dcurrent_dv(state, v)    -> S        exact derivative of current with respect to v (for Newton)
    dstate_dt(state, v)      -> unit/s   rate of change of the internal state
    conductance(state, v)    -> S        chord conductance current / v (small-signal at v = 0)
    step(state, v, dt)       -> state    one explicit Euler step, clipped to ``state_bounds``
    dcurrent_dstate(state, v)  -> A/unit  exact derivative of the current by the state
    dstate_partials(state, v)  -> (rate, d rate/d state, d rate/d v)   exact, for a joint Newton
    state_bounds             -> (lo, hi) physical bounds of the state
    spice_subckt(name)       -> str      ngspice behavioural ``.subckt name p n``
    equations()              -> dict     the same equations as text (for brian2)

Every parameter may be a scalar or an array broadcastable to the state array: one model object
then describes a group of devices with per-device parameters (device-to-device variability).

Examples
--------
>>> import numpy as np
>>> from neurosim.devices import LinearIonDrift
>>> m = LinearIonDrift(R_on=100.0, R_off=16e3, D=10e-9, mu_v=1e-14, window="joglekar", p=1)
>>> x = np.array([0.0, 0.5, 1.0])
>>> m.current(x, 1.0)           # i = v / (R_on x + R_off (1 - x))
array([6.25000000e-05, 1.24223602e-04, 1.00000000e-02])
>>> m.step(x, 1.0, 1e-3)        # the windowed state cannot leave [0, 1]
array([0.        , 0.50124224, 1.        ])
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Checked, Param, _show

__all__ = ["DeviceModel", "spice_num"]


def spice_num(x: float) -> str:
    """Format a float for a SPICE expression with full double precision (``repr`` round-trips)."""
    x = float(x)
    if x == 0.0:
        return "0"
    return repr(x)


class DeviceModel(Checked):
    """Base class of the memristor models (mixin for frozen dataclasses).

    Subclasses declare ``_params`` (kind, range, unit) and ``_array_params`` (the names that may be
    per-device arrays). Array-valued parameters are checked element by element against the same
    declared range, with the same message format as scalars.
    """

    _params: ClassVar[dict[str, Param]] = {}
    #: parameters that may be arrays (per-device values); the others must be scalars
    _array_params: ClassVar[tuple[str, ...]] = ()
    #: name of the state and its unit, for docs and ``equations()``
    state_name: ClassVar[str] = "x"
    state_unit: ClassVar[str] = "1"
    #: the node voltage of the SPICE state node is ``state / spice_state_scale`` (keeps it O(1))
    spice_state_scale: ClassVar[float] = 1.0

    # ------------------------------------------------------------------ checks
    def _check(self) -> None:
        owner = type(self).__name__
        for name, param in self._params.items():
            value = getattr(self, name)
            if name in self._array_params and isinstance(value, (np.ndarray, list, tuple)):
                object.__setattr__(self, name, _check_param_array(owner, name, param, value))
            else:
                object.__setattr__(self, name, param.check(owner, name, value))

    def _scalar(self, *names: str) -> None:
        """Refuse per-device arrays for an operation that needs one value (e.g. SPICE export)."""
        for name in names:
            if isinstance(getattr(self, name), np.ndarray):
                raise ParameterError(
                    f"{type(self).__name__}: {name} must be a scalar for this operation, got an array of shape "
                    f"{np.shape(getattr(self, name))}"
                )

    @property
    def n_devices_shape(self) -> tuple:
        """Broadcast shape of the per-device parameter arrays (``()`` when all are scalars)."""
        shapes = [np.shape(getattr(self, n)) for n in self._array_params]
        return np.broadcast_shapes(*shapes) if shapes else ()

    def replace(self, **changes: Any):
        """A copy with some parameters changed (checked again), like :func:`dataclasses.replace`."""
        return dataclasses.replace(self, **changes)

    def params(self) -> dict:
        """The parameters as a plain dict (serialisable when all are scalars)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    # ------------------------------------------------------------------ protocol
    @property
    def state_bounds(self) -> tuple:
        """``(lo, hi)``: the physical bounds of the state (scalars or per-device arrays)."""
        raise NotImplementedError

    @property
    def state_on(self):
        """The state of lowest resistance (used by stuck-at-ON faults)."""
        raise NotImplementedError

    @property
    def state_off(self):
        """The state of highest resistance (used by stuck-at-OFF faults)."""
        raise NotImplementedError

    def current(self, state, v):  # pragma: no cover - abstract
        raise NotImplementedError

    def dcurrent_dv(self, state, v):  # pragma: no cover - abstract
        raise NotImplementedError

    def dstate_dt(self, state, v):  # pragma: no cover - abstract
        raise NotImplementedError

    def conductance(self, state, v=0.0):
        r"""Chord conductance :math:`G = i(x, v) / v`, or the small-signal slope at :math:`v = 0` (S).

        Parameters
        ----------
        state : array_like
            Device states.
        v : float or array_like
            Port voltage (V); where it is 0 the derivative ``dcurrent_dv`` is returned.

        Returns
        -------
        ndarray
            Conductance (S), broadcast shape of ``state`` and ``v``.
        """
        state = np.asarray(state, dtype=float)
        v = np.asarray(v, dtype=float)
        if not np.any(v):
            return self.dcurrent_dv(state, np.zeros(np.broadcast_shapes(state.shape, v.shape)))
        vs = np.where(v == 0.0, 1.0, v)
        return np.where(v == 0.0, self.dcurrent_dv(state, v), self.current(state, vs) / vs)

    def clip(self, state):
        """The state clipped to ``state_bounds`` (a new array)."""
        lo, hi = self.state_bounds
        return np.clip(state, lo, hi)

    def step(self, state, v, dt, out=None):
        r"""Advance the state by one explicit (forward) Euler step and clip it to the bounds.

        .. math::

            x_{n+1} = \mathrm{clip}\big(x_n + \Delta t\, \dot x(x_n, v_n),\; x_{lo},\; x_{hi}\big)

        Parameters
        ----------
        state : ndarray
            States at the start of the step.
        v : float or ndarray
            Port voltage (V) during the step.
        dt : float
            Step (s), > 0.
        out : ndarray, optional
            Where to write the result (may be ``state`` itself for an in-place update).

        Returns
        -------
        ndarray
            The new states.
        """
        rate = self._euler_rate(state, v)
        shape = np.broadcast_shapes(np.shape(state), np.shape(rate))
        if not (isinstance(rate, np.ndarray) and rate.shape == shape and rate.flags.writeable and rate.dtype == np.float64):
            rate = np.array(np.broadcast_to(rate, shape), dtype=np.float64)  # (fresh arrays are updated in place)
        rate *= dt
        rate += state
        lo, hi = self.state_bounds
        return np.clip(rate, lo, hi, out=out if out is not None else rate)

    def _euler_rate(self, state, v):
        """Rate used by :meth:`step`: ``dstate_dt`` without hard-bound masking (the clip does it)."""
        return self.dstate_dt(state, v)

    def rhs(self, v_of_t):
        """``f(t, x)`` for :func:`scipy.integrate.solve_ivp` under a voltage drive ``v_of_t(t)`` (V)."""

        def f(t, x):
            return self.dstate_dt(x, v_of_t(t))

        return f

    def spice_subckt(self, name: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def equations(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def brian2_model(self):
        """The model for brian2: ``(equations_text, namespace)``, keeping the state bounds.

        ``equations_text`` joins the equation lines of :meth:`equations` (the caller adds a line
        defining the port voltage ``v``, in volt); ``namespace`` maps every numeric parameter to a
        brian2 quantity in its SI unit. The state bounds of ``equations()["bounds"]``
        (``lo <= x <= hi``) are kept: the state equation becomes

        .. math:: \\dot x = r - [x \\ge hi] \\max(r, 0) - [x \\le lo] \\min(r, 0), \\quad r = r(x, v)

        with the rate :math:`r` as the subexpression ``rate_x`` (a state at a bound does not move
        further out, as in the circuit engine), and :meth:`brian2_clip` gives the statement that
        clips the overshoot of the last step (run it after the state update, e.g.
        ``group.run_regularly(model.brian2_clip(), when="after_groups")``). Parameters must be scalars.

        Returns
        -------
        tuple of (str, dict)
        """
        import brian2  # heavy: imported only when asked for

        self._scalar(*self._array_params)
        units = {
            "": 1.0, "ohm": brian2.ohm, "m": brian2.meter, "m/s": brian2.meter / brian2.second,
            "m^2/(V s)": brian2.meter**2 / (brian2.volt * brian2.second), "A": brian2.amp, "V": brian2.volt,
            "1/V": 1.0 / brian2.volt, "1/s": brian2.hertz, "S": brian2.siemens, "s": brian2.second,
        }
        eqs = self.equations()
        lines = [text for key, text in eqs.items() if key not in ("bounds", "state") and not key.startswith("pulse")]
        lines.insert(0, self._bounded_state_equation(eqs["state"], eqs.get("bounds")))
        namespace = {}
        for name, param in self._params.items():
            value = getattr(self, name)
            if isinstance(value, str) or param.kind not in ("real", "int", "choice"):
                continue
            namespace[name] = float(value) * units[param.unit]
        return "\n".join(lines), namespace

    @staticmethod
    def _parse_bounds(bounds: str):
        lo, var, hi = (part.strip() for part in bounds.split("<="))
        return lo, var, hi

    def _bounded_state_equation(self, state: str, bounds: str | None) -> str:
        """``dx/dt = expr : unit`` -> the rate subexpression and the bound-masked state equation."""
        if not bounds:
            return state
        lhs, rest = state.split("=", 1)
        expr, unit = rest.rsplit(":", 1)
        var = lhs.strip()[1:].split("/")[0]
        unit = unit.strip()
        lo, _, hi = self._parse_bounds(bounds)
        rate_unit = "1/second" if unit == "1" else f"{unit}/second"
        r = f"(rate_{var}*second/({unit}))"  # the rate as a plain number (clip and comparisons stay unit-free)
        return (
            f"rate_{var} = {expr.strip()} : {rate_unit}\n"
            f"d{var}/dt = rate_{var} - (int({var} >= {hi})*clip({r}, 0, inf) + int({var} <= {lo})*clip({r}, -inf, 0))"
            f"*({unit})/second : {unit}"
        )

    def brian2_clip(self) -> str:
        """The brian2 statement clipping the state to its bounds, e.g. ``"x = clip(x, 0, 1)"``."""
        lo, var, hi = self._parse_bounds(self.equations()["bounds"])
        return f"{var} = clip({var}, {lo}, {hi})"

    # ------------------------------------------------------------------ SPICE helpers
    def _spice_wrap(self, name: str, rate_expr: str, current_expr: str, title: str) -> str:
        """Assemble the common ``.subckt``: a 1 F state capacitor charged by ``rate_expr``.

        The state node ``x`` holds ``state / spice_state_scale``. A 1e15 ohm resistor to a source at
        the initial state makes the DC operating point well defined (it starts at the initial
        state) and changes the state rate by at most ~1e-15 per second (negligible).
        """
        if not isinstance(name, str) or not name or any(c.isspace() for c in name):
            raise ParameterError(f"{type(self).__name__}: name must be a non-empty string without spaces, got {name!r}")
        x0 = np.asarray(self.initial_state)
        if x0.ndim:
            raise ParameterError(f"{type(self).__name__}: initial_state must be a scalar for SPICE export")
        x0s = spice_num(float(x0) / self.spice_state_scale)
        return "\n".join(
            [
                f"* {title}",
                f"* state node x = {self.state_name} / {spice_num(self.spice_state_scale)} ({self.state_unit})",
                f".subckt {name} p n",
                "Cx x 0 1",
                f"Vx0 xref 0 DC {x0s}",
                "Rx x xref 1e15",
                f"Bx 0 x I={rate_expr}",
                f"Bm p n I={current_expr}",
                f".ends {name}",
                "",
            ]
        )


def _check_param_array(owner: str, name: str, param: Param, value) -> np.ndarray:
    """Check a per-device parameter array element by element against its declared range."""
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{owner}: {name} must be {param.describe()} (or an array of them), got {_show(value)}") from exc
    if param.kind not in ("real", "int"):
        raise ParameterError(f"{owner}: {name} must be {param.describe()}, got an array")
    bad = ~np.isfinite(arr)
    if param.low is not None:
        bad |= arr <= param.low if param.low_open else arr < param.low
    if param.high is not None:
        bad |= arr >= param.high if param.high_open else arr > param.high
    if bad.any():
        first = arr[bad].flat[0]
        raise ParameterError(
            f"{owner}: {name} must be {param.describe()} (every element), got {int(bad.sum())} element(s) out of range, "
            f"e.g. {first!r}"
        )
    arr.setflags(write=False)
    return arr


class UnitIntervalState:
    """Shared by the models whose state is a normalised internal variable in ``[0, 1]`` (doped width,
    filament fraction): 1 is the state of lowest resistance, 0 of highest."""

    @property
    def state_bounds(self) -> tuple:
        """``(0.0, 1.0)``."""
        return (0.0, 1.0)

    @property
    def state_on(self):
        """``1.0`` (lowest resistance)."""
        return 1.0

    @property
    def state_off(self):
        """``0.0`` (highest resistance)."""
        return 0.0

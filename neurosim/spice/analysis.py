"""Analysis directives shared by the SPICE writer, reader and the ngspice runner.

Three analyses: :class:`Op` (``.op``, DC operating point), :class:`Tran` (``.tran``, transient) and
:class:`DCSweep` (``.dc``, sweep of one independent source). Each renders its SPICE line with
``to_spice()``; :func:`as_analysis` accepts an object or a short string such as ``"op"`` or
``".tran 1n 1u"``.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from neurosim.errors import ParameterError, SpiceSyntaxError
from neurosim.params import Checked, Param

__all__ = ["Op", "Tran", "DCSweep", "Analysis", "as_analysis", "fmt"]


def fmt(x: float) -> str:
    """A float as SPICE text with full precision (shortest string that reads back exactly).

    Examples
    --------
    >>> fmt(0.1), fmt(1e-15), fmt(3.0)
    ('0.1', '1e-15', '3')
    """
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


@dataclasses.dataclass(frozen=True)
class Op(Checked):
    """DC operating point, ``.op``.

    Examples
    --------
    >>> Op().to_spice()
    '.op'
    """

    def to_spice(self) -> str:
        """The SPICE line."""
        return ".op"


@dataclasses.dataclass(frozen=True)
class Tran(Checked):
    """Transient analysis, ``.tran tstep tstop [tstart [tmax]] [uic]``.

    Parameters
    ----------
    tstep : float
        Printing increment in second (also ngspice's initial step guess).
    tstop : float
        Final time in second.
    tstart : float
        Time in second from which results are stored.
    tmax : float, optional
        Largest internal step in second (``None``: ngspice's default).
    uic : bool
        Start from the capacitors' initial conditions instead of an operating point.

    Examples
    --------
    >>> Tran(1e-9, 1e-6, tmax=1e-10, uic=True).to_spice()
    '.tran 1e-09 1e-06 0 1e-10 uic'
    """

    tstep: float
    tstop: float
    tstart: float = 0.0
    tmax: float | None = None
    uic: bool = False

    _params: ClassVar[dict] = {
        "tstep": Param("real", low=0, low_open=True, unit="s"),
        "tstop": Param("real", low=0, low_open=True, unit="s"),
        "tstart": Param("real", low=0, unit="s"),
        "tmax": Param("real", low=0, low_open=True, unit="s", optional=True),
        "uic": Param("bool"),
    }

    def _check(self) -> None:
        super()._check()
        if self.tstart >= self.tstop:
            raise ParameterError(f"Tran: tstart must be < tstop = {self.tstop!r} s, got {self.tstart!r}")

    def to_spice(self) -> str:
        """The SPICE line."""
        parts = [".tran", fmt(self.tstep), fmt(self.tstop)]
        if self.tstart or self.tmax is not None:
            parts.append(fmt(self.tstart))
        if self.tmax is not None:
            parts.append(fmt(self.tmax))
        if self.uic:
            parts.append("uic")
        return " ".join(parts)


@dataclasses.dataclass(frozen=True)
class DCSweep(Checked):
    """DC sweep of one independent source, ``.dc source start stop step``.

    Parameters
    ----------
    source : str
        Name of an independent voltage or current source.
    start, stop : float
        Sweep range in volt (or ampere for a current source).
    step : float
        Increment, non-zero, with the sign of ``stop - start``.

    Examples
    --------
    >>> DCSweep("V1", 0, 1, 0.5).to_spice()
    '.dc V1 0 1 0.5'
    """

    source: str
    start: float
    stop: float
    step: float

    _params: ClassVar[dict] = {
        "source": Param("str"),
        "start": Param("real", unit="V"),
        "stop": Param("real", unit="V"),
        "step": Param("real", unit="V"),
    }

    def _check(self) -> None:
        super()._check()
        if self.step == 0 or (self.stop - self.start) * self.step < 0:
            raise ParameterError(
                f"DCSweep: step must be non-zero with the sign of stop - start = {self.stop - self.start!r}, "
                f"got {self.step!r}"
            )

    def to_spice(self) -> str:
        """The SPICE line."""
        return f".dc {self.source} {fmt(self.start)} {fmt(self.stop)} {fmt(self.step)}"


Analysis = Op | Tran | DCSweep


def as_analysis(value) -> Analysis:
    """An analysis object from an object or a string (``"op"``, ``".tran 1n 1u"``, ``"dc v1 0 1 .1"``).

    Raises
    ------
    ParameterError
        Anything else.

    Examples
    --------
    >>> as_analysis(".tran 1n 1u")
    Tran(tstep=1e-09, tstop=1e-06, tstart=0.0, tmax=None, uic=False)
    """
    if isinstance(value, (Op, Tran, DCSweep)):
        return value
    if isinstance(value, str):
        from neurosim.spice.lexer import Statement, parse_number

        words = value.strip().lower().lstrip(".").split()
        where = Statement(value, "<analysis>", 1)
        try:
            if words == ["op"]:
                return Op()
            if words and words[0] == "tran" and 3 <= len(words) <= 6:
                uic = words[-1] == "uic"
                nums = [parse_number(w, where) for w in words[1 : len(words) - uic]]
                if 2 <= len(nums) <= 4:
                    return Tran(*nums[:2], *(nums[2:3] or [0.0]), *nums[3:4], uic=uic)
            if words and words[0] == "dc" and len(words) == 5:
                return DCSweep(words[1], *(parse_number(w, where) for w in words[2:]))
        except SpiceSyntaxError as exc:
            raise ParameterError(f"analysis: {exc}") from None
    raise ParameterError(f"analysis must be Op(), Tran(...), DCSweep(...) or a string like 'op', got {value!r}")

"""Analysis directives shared by the SPICE writer, reader and the ngspice runner.

Four analyses: :class:`Op` (``.op``, DC operating point), :class:`Tran` (``.tran``, transient),
:class:`DCSweep` (``.dc``, linear sweep of one independent source or a nested pair) and :class:`AC`
(``.ac``, small-signal frequency sweep). Each renders its SPICE line with ``to_spice()``;
:func:`as_analysis` accepts an object or a short string such as ``"op"``, ``".tran 1n 1u"`` or
``".ac dec 10 1 1meg"``; :func:`parse_sweep` reads ``.dc``/``.ac`` deck lines.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from neurosim.errors import ParameterError, SpiceSyntaxError
from neurosim.params import Checked, Param

__all__ = ["Op", "Tran", "DCSweep", "AC", "Analysis", "as_analysis", "parse_sweep", "fmt"]


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
    """DC sweep of one independent source, ``.dc source start stop step``, or of a nested pair
    ``.dc src start stop step src2 start2 stop2 step2`` (``src`` varies fastest, as in SPICE).

    Parameters
    ----------
    source : str
        Name of an independent voltage or current source.
    start, stop : float
        Sweep range in volt (or ampere for a current source).
    step : float
        Increment, non-zero, with the sign of ``stop - start``.
    source2, start2, stop2, step2 : optional
        The outer sweep of a nested pair (all four or none).

    Examples
    --------
    >>> DCSweep("V1", 0, 1, 0.5).to_spice()
    '.dc V1 0 1 0.5'
    >>> DCSweep("V1", 0, 1, 0.5, "V2", 0, 2, 1).values2().tolist()
    [0.0, 1.0, 2.0]
    """

    source: str
    start: float
    stop: float
    step: float
    source2: str | None = None
    start2: float | None = None
    stop2: float | None = None
    step2: float | None = None
    where: object = dataclasses.field(default=None, compare=False, repr=False)  # deck line, for errors

    _params: ClassVar[dict] = {
        "source": Param("str"),
        "start": Param("real", unit="V"),
        "stop": Param("real", unit="V"),
        "step": Param("real", unit="V"),
        "source2": Param("str", optional=True),
        "start2": Param("real", unit="V", optional=True),
        "stop2": Param("real", unit="V", optional=True),
        "step2": Param("real", unit="V", optional=True),
    }

    def _check(self) -> None:
        super()._check()
        outer = (self.source2, self.start2, self.stop2, self.step2)
        if any(v is not None for v in outer) and any(v is None for v in outer):
            raise ParameterError("DCSweep: source2, start2, stop2 and step2 must be given together")
        for suffix, (a, b, d) in (("", (self.start, self.stop, self.step)), ("2", (self.start2, self.stop2, self.step2))):
            if d is not None and (d == 0 or (b - a) * d < 0):
                raise ParameterError(
                    f"DCSweep: step{suffix} must be non-zero with the sign of stop{suffix} - start{suffix} = "
                    f"{b - a!r}, got {d!r}"
                )
        if self.source2 is not None and self.source2.lower() == self.source.lower():
            raise ParameterError(f"DCSweep: source2 must differ from source, got {self.source2!r} twice")

    @property
    def nested(self) -> bool:
        """Whether a second (outer) source is swept."""
        return self.source2 is not None

    def values(self) -> "np.ndarray":
        """Values of ``source`` (V or A), see :func:`neurosim.solve.sweep_values`."""
        from neurosim.solve.dcsweep import sweep_values

        return sweep_values(self.start, self.stop, self.step)

    def values2(self) -> "np.ndarray | None":
        """Values of ``source2``, or ``None``."""
        from neurosim.solve.dcsweep import sweep_values

        return sweep_values(self.start2, self.stop2, self.step2) if self.nested else None

    def to_spice(self) -> str:
        """The SPICE line."""
        line = f".dc {self.source} {fmt(self.start)} {fmt(self.stop)} {fmt(self.step)}"
        if self.nested:
            line += f" {self.source2} {fmt(self.start2)} {fmt(self.stop2)} {fmt(self.step2)}"
        return line


@dataclasses.dataclass(frozen=True)
class AC(Checked):
    """Small-signal AC sweep, ``.ac dec|oct|lin points fstart fstop``.

    Parameters
    ----------
    variation : {"dec", "oct", "lin"}
        Points per decade, per octave, or linear.
    points : int
        Points per decade / octave, or in total (``lin``), >= 1.
    f_start, f_stop : float
        Hz, ``0 < f_start <= f_stop``.

    Examples
    --------
    >>> AC("dec", 10, 1.0, 1e6).to_spice()
    '.ac dec 10 1 1000000'
    >>> AC("lin", 3, 1.0, 3.0).frequencies().tolist()
    [1.0, 2.0, 3.0]
    """

    variation: str
    points: int
    f_start: float
    f_stop: float

    _params: ClassVar[dict] = {
        "variation": Param("choice", choices=("dec", "oct", "lin")),
        "points": Param("int", low=1),
        "f_start": Param("real", low=0, low_open=True, unit="Hz"),
        "f_stop": Param("real", low=0, low_open=True, unit="Hz"),
    }

    def __post_init__(self):
        if isinstance(self.variation, str):
            object.__setattr__(self, "variation", self.variation.lower())
        super().__post_init__()

    def _check(self) -> None:
        super()._check()
        if self.f_stop < self.f_start:
            raise ParameterError(f"AC: f_stop must be >= f_start = {self.f_start!r} Hz, got {self.f_stop!r}")

    def frequencies(self) -> "np.ndarray":
        """The swept frequencies, Hz (see :func:`neurosim.solve.ac_frequencies`)."""
        from neurosim.solve.ac import ac_frequencies

        return ac_frequencies(self.variation, self.points, self.f_start, self.f_stop)

    def to_spice(self) -> str:
        """The SPICE line."""
        return f".ac {self.variation} {self.points} {fmt(self.f_start)} {fmt(self.f_stop)}"


def parse_sweep(toks: list, st):
    """A ``.dc`` or ``.ac`` analysis from the tokens of its deck line (``toks[0]`` is the directive).

    Raises
    ------
    SpiceSyntaxError
        Malformed lines and bad values, located at ``st`` (``file:line``).

    Examples
    --------
    >>> from neurosim.spice.lexer import Statement
    >>> parse_sweep([".ac", "dec", "10", "1", "1meg"], Statement(".ac dec 10 1 1meg", "deck.cir", 5))
    AC(variation='dec', points=10, f_start=1.0, f_stop=1000000.0)
    """
    from neurosim.spice.lexer import parse_number

    word = toks[0].lower()
    try:
        if word == ".ac":
            if len(toks) != 5 or toks[1].lower() not in ("dec", "oct", "lin"):
                raise st.error(".ac needs dec|oct|lin points fstart fstop")
            pts = parse_number(toks[2], st)
            if pts != int(pts) or pts < 1:
                raise st.error(f".ac: points must be an integer >= 1, got {toks[2]!r}")
            return AC(toks[1].lower(), int(pts), parse_number(toks[3], st), parse_number(toks[4], st))
        if len(toks) not in (5, 9):
            raise st.error(".dc needs source start stop step [source2 start2 stop2 step2]")
        outer = (toks[5], *(parse_number(t, st) for t in toks[6:9])) if len(toks) == 9 else ()
        return DCSweep(toks[1], *(parse_number(t, st) for t in toks[2:5]), *outer, where=st)
    except ValueError as exc:  # ParameterError from the analysis' own checks
        if isinstance(exc, SpiceSyntaxError):
            raise
        raise st.error(str(exc)) from None


Analysis = Op | Tran | DCSweep | AC


def as_analysis(value) -> Analysis:
    """An analysis object from an object or a string (``"op"``, ``".tran 1n 1u"``, ``"dc v1 0 1 .1"``,
    ``".ac dec 10 1 1meg"``).

    Raises
    ------
    ParameterError
        Anything else.

    Examples
    --------
    >>> as_analysis(".tran 1n 1u")
    Tran(tstep=1e-09, tstop=1e-06, tstart=0.0, tmax=None, uic=False)
    """
    if isinstance(value, (Op, Tran, DCSweep, AC)):
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
            if words and words[0] in ("dc", "ac"):
                return parse_sweep(["." + words[0]] + words[1:], where)
        except SpiceSyntaxError as exc:
            raise ParameterError(f"analysis: {exc}") from None
    raise ParameterError(f"analysis must be Op(), Tran(...), DCSweep(...), AC(...) or a string like 'op', got {value!r}")

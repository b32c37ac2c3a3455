"""Energy, latency and area accounting of a crossbar (accumulated per read and per programming op).

Energy of one read of one tile (all tiles work in parallel, so latency is one tile's):

.. math::

    E = \\underbrace{t_\\mathrm{read} \\sum_{ij} G_{ij} V_{ij}^2}_{\\text{array}}
      + n_\\mathrm{DAC} E_\\mathrm{DAC}(b_\\mathrm{DAC}) + n_\\mathrm{ADC} E_\\mathrm{ADC}(b_\\mathrm{ADC}),
    \\qquad
    t = \\tau_\\mathrm{wire} + t_\\mathrm{read}
      + \\left\\lceil \\frac{n_\\mathrm{out}}{n_\\mathrm{ADC}} \\right\\rceil t_\\mathrm{ADC}

with the wire delay the Elmore delay of a distributed RC line driven through ``r_driver``,
:math:`\\tau = 0.38\\, (N r_w)(N c_w) + r_\\mathrm{drv} N c_w`, rows then columns. In ``circuit`` mode
the array energy is the power the drivers deliver (cells and wires), :math:`t\\, V^T Y V`.

Examples
--------
>>> c = Cost()
>>> c.e_array += 1e-12; c.reads += 1
>>> print(c)  # doctest: +ELLIPSIS
Crossbar cost
...
"""

from __future__ import annotations

import dataclasses

__all__ = ["Cost", "adc_energy", "dac_energy", "wire_delay"]


def adc_energy(cost_model, bits: int | None) -> float:
    """Energy (J) of one conversion; an ideal (``bits=None``) ADC is costed as 8 bits.

    .. math:: E_\\mathrm{ADC}(b) = E_\\mathrm{ADC,8}\\, 2^{b-8}
    """
    b = 8 if bits is None else bits
    return cost_model.e_adc_8bit * 2.0 ** (b - 8)


def dac_energy(cost_model, bits: int | None) -> float:
    """Energy (J) of one input conversion; an ideal DAC is costed as 8 bits.

    .. math:: E_\\mathrm{DAC}(b) = b\\, E_\\mathrm{DAC,1}
    """
    return cost_model.e_dac_1bit * (8 if bits is None else bits)


def wire_delay(rows: int, cols: int, r_wire: float, r_driver: float, c_wire: float) -> float:
    """Elmore delay (s) of a row line then a column line (distributed RC, driver resistance).

    .. math:: \\tau = 0.38 (c\\, r_w)(c\\, c_w) + r_\\mathrm{drv}\\, c\\, c_w + 0.38 (r\\, r_w)(r\\, c_w)

    Examples
    --------
    >>> wire_delay(100, 100, 1.0, 0.0, 1e-15)
    7.6e-12
    """
    row = 0.38 * (cols * r_wire) * (cols * c_wire) + r_driver * cols * c_wire
    col = 0.38 * (rows * r_wire) * (rows * c_wire)
    return row + col


@dataclasses.dataclass
class Cost:
    """Counters accumulated by a :class:`~neurosim.crossbar.Crossbar` (reset with ``reset()``).

    Attributes
    ----------
    reads : int
        Input vectors processed (``matvec`` counts 1, ``matmul`` the batch size).
    macs : int
        Multiply-accumulates represented (``reads * in * out``).
    dac_conversions, adc_conversions : int
        Converter operations.
    e_array, e_dac, e_adc : float
        Read energy (J) in the array (cells and wires), DACs, ADCs.
    t_read : float
        Read latency (s), summed over sequential reads (tiles in parallel).
    program_pulses : int
        Programming and verify pulses applied.
    e_program, t_program : float
        Programming energy (J) and time (s).
    area_array, area_dac, area_adc : float
        Area (m^2): cells, DACs, ADCs (static, set when the crossbar is built).
    """

    reads: int = 0
    macs: int = 0
    dac_conversions: int = 0
    adc_conversions: int = 0
    e_array: float = 0.0
    e_dac: float = 0.0
    e_adc: float = 0.0
    t_read: float = 0.0
    program_pulses: int = 0
    e_program: float = 0.0
    t_program: float = 0.0
    area_array: float = 0.0
    area_dac: float = 0.0
    area_adc: float = 0.0

    @property
    def e_read(self) -> float:
        """Total read energy (J)."""
        return self.e_array + self.e_dac + self.e_adc

    @property
    def energy(self) -> float:
        """Total energy (J), reads and programming."""
        return self.e_read + self.e_program

    @property
    def area(self) -> float:
        """Total area (m^2)."""
        return self.area_array + self.area_dac + self.area_adc

    def reset(self) -> None:
        """Zero the dynamic counters (areas stay)."""
        keep = {"area_array", "area_dac", "area_adc"}
        for f in dataclasses.fields(self):
            if f.name not in keep:
                setattr(self, f.name, type(getattr(self, f.name))(0))

    def to_dict(self) -> dict:
        """Counters and totals as a plain dict (SI units)."""
        out = dataclasses.asdict(self)
        out.update(e_read=self.e_read, energy=self.energy, area=self.area)
        return out

    def __str__(self) -> str:
        per = max(self.reads, 1)
        rows = [
            ("reads (vectors)", f"{self.reads}", ""),
            ("MACs", f"{self.macs}", ""),
            ("DAC conversions", f"{self.dac_conversions}", ""),
            ("ADC conversions", f"{self.adc_conversions}", ""),
            ("energy: array", _si(self.e_array, "J"), _si(self.e_array / per, "J")),
            ("energy: DAC", _si(self.e_dac, "J"), _si(self.e_dac / per, "J")),
            ("energy: ADC", _si(self.e_adc, "J"), _si(self.e_adc / per, "J")),
            ("energy: read total", _si(self.e_read, "J"), _si(self.e_read / per, "J")),
            ("latency: reads", _si(self.t_read, "s"), _si(self.t_read / per, "s")),
            ("energy / MAC", _si(self.e_read / max(self.macs, 1), "J"), ""),
            ("programming pulses", f"{self.program_pulses}", ""),
            ("programming energy", _si(self.e_program, "J"), ""),
            ("programming time", _si(self.t_program, "s"), ""),
            ("area: array", _si(self.area_array * 1e12, "um^2"), ""),
            ("area: DAC", _si(self.area_dac * 1e12, "um^2"), ""),
            ("area: ADC", _si(self.area_adc * 1e12, "um^2"), ""),
            ("area: total", _si(self.area * 1e12, "um^2"), ""),
        ]
        w = max(len(r[0]) for r in rows)
        lines = ["Crossbar cost", f"{'':{w}}  {'total':>12}  {'per read':>12}"]
        lines += [f"{a:{w}}  {b:>12}  {c:>12}" for a, b, c in rows]
        return "\n".join(lines)


_PREFIX = [(1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1.0, ""), (1e3, "k"), (1e6, "M")]


def _si(value: float, unit: str) -> str:
    """``1.5e-12, 'J'`` -> ``'1.5 pJ'`` (units with a power, like um^2, are not prefixed)."""
    if "^" in unit or value == 0:
        return f"{value:.4g} {unit}"
    mag = abs(value)
    scale, prefix = _PREFIX[0]
    for s, p in _PREFIX:
        if mag >= s:
            scale, prefix = s, p
    return f"{value / scale:.4g} {prefix}{unit}"

"""Plain, serialisable configuration of a crossbar: array, mapping, converters, programming, costs.

Every configuration is a frozen dataclass with a declared constraint table (:class:`~neurosim.params.Param`),
``to_dict()`` / ``from_dict()`` and, for :class:`CrossbarConfig`, ``to_toml()`` / ``from_toml()``,
so sweeps and studies can store and reload it.

Examples
--------
>>> cfg = CrossbarConfig(tile_rows=64, dac=DAC(bits=8), adc=ADC(bits=6))
>>> CrossbarConfig.from_toml(cfg.to_toml()) == cfg
True
>>> CrossbarConfig(cell="2T2R")
Traceback (most recent call last):
...
neurosim.errors.ParameterError: CrossbarConfig: cell must be one of '0T1R', '1T1R', '1S1R', got '2T2R'
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

from neurosim.errors import ParameterError
from neurosim.config import PlainConfig
from neurosim.params import Param

__all__ = ["DAC", "ADC", "Programming", "CostModel", "CrossbarConfig"]


@dataclasses.dataclass(frozen=True)
class DAC(PlainConfig):
    """Digital-to-analog input converter: input value -> row voltage (V).

    Parameters
    ----------
    bits : int or None
        Resolution including the sign (sign-magnitude, ``2**(bits-1) - 1`` magnitude steps);
        ``None`` is an ideal converter (no quantization, no clipping).
    v_read : float
        Read voltage (V) that represents an input of magnitude ``x_max``.
    x_max : float
        Input full scale (input units). With finite ``bits`` inputs are clipped to ``[-x_max, x_max]``.
    encoding : {"amplitude", "bit_serial", "pulse_width"}
        ``amplitude``: one read at voltage ``v_read * x / x_max``. ``bit_serial``: ``bits - 1`` reads,
        one per magnitude bit at ``±v_read`` or 0, partial results weighted ``2**k`` digitally after the
        ADC. ``pulse_width``: one read at ``±v_read`` for a time ``t_read * |x| / x_max`` with the
        charge integrated (linear in ``x`` even for a nonlinear cell I-V). Finite ``bits`` are required
        for ``bit_serial``.

    .. math:: V = v_\\mathrm{read}\\,\\mathrm{round}\\!\\left(\\frac{x}{x_\\max} (2^{b-1}-1)\\right) / (2^{b-1}-1)
    """

    bits: int | None = None
    v_read: float = 0.2
    x_max: float = 1.0
    encoding: str = "amplitude"

    _params: ClassVar[dict[str, Param]] = {
        "bits": Param("int", low=2, high=24, optional=True, doc="resolution incl. sign"),
        "v_read": Param("real", low=0, low_open=True, high=10, unit="V"),
        "x_max": Param("real", low=1e-100, high=1e100, doc="full scale; the float64 chain needs 1/x_max finite"),
        "encoding": Param("choice", choices=("amplitude", "bit_serial", "pulse_width")),
    }

    def _check(self) -> None:
        super()._check()
        if self.encoding == "bit_serial" and self.bits is None:
            raise ParameterError("DAC: bits must be an integer in [2, 24] for encoding='bit_serial', got None")


@dataclasses.dataclass(frozen=True)
class ADC(PlainConfig):
    """Analog-to-digital output converter, after the transimpedance stage.

    Parameters
    ----------
    bits : int or None
        Resolution including the sign; ``None`` is an ideal converter.
    v_range : float or None
        Full scale (V) of the converter input, i.e. of ``gain * I``; ``None`` calibrates it per tile
        at programming time to the largest output any input in ``[-x_max, x_max]`` can produce
        (the tightest range that never saturates for the programmed weights).
    saturation : bool
        ``True``: codes beyond full scale clip to it (real hardware); ``False``: no clipping, an
        idealisation that separates clipping from quantisation.
    noise : float
        Input-referred noise of the readout (transimpedance stage and converter), rms, as a fraction
        of the full scale ``v_range`` (dimensionless; aihwkit's ``out_noise`` convention). Every
        conversion draws its own sample; applied with ideal converters too. ``0.5 / (2**(b-1) - 1)``
        is half an LSB of a ``b``-bit converter.

    .. math:: y = \\frac{v_\\mathrm{range}}{N}\\,\\mathrm{round}\\!\\left(N\\,\\mathrm{clip}\\!\\left(\\frac{v + \\eta\\, v_\\mathrm{range}\\, z}{v_\\mathrm{range}}, -1, 1\\right)\\right),
        \\qquad N = 2^{b-1}-1,\\ z \\sim \\mathcal N(0, 1),\\ \\eta = \\texttt{noise}
    """

    bits: int | None = None
    v_range: float | None = None
    saturation: bool = True
    noise: float = 0.0

    _params: ClassVar[dict[str, Param]] = {
        "bits": Param("int", low=2, high=24, optional=True, doc="resolution incl. sign"),
        "v_range": Param("real", low=0, low_open=True, unit="V", optional=True),
        "saturation": Param("bool"),
        "noise": Param("real", low=0, high=1, doc="rms, fraction of full scale"),
    }


@dataclasses.dataclass(frozen=True)
class Programming(PlainConfig):
    """How target conductances are written.

    Parameters
    ----------
    method : {"exact", "write_verify"}
        ``exact`` sets every cell to its target (an idealised programmer, one pulse per cell);
        ``write_verify`` applies pulse rounds with the device model's ``apply_pulses`` and reads back,
        until every cell is within ``tolerance`` or ``max_pulses`` rounds were spent.
    tolerance : float
        Allowed error as a fraction of the conductance window ``g_max - g_min``.
    max_pulses : int
        Pulse rounds (each cell gets at most one pulse per round).
    v_set, v_reset : float
        Pulse amplitudes (V) for increasing / decreasing conductance (``v_reset`` is negative).
    t_pulse : float
        Pulse width (s).
    t_verify : float
        Time of one verify read (s).
    """

    method: str = "exact"
    tolerance: float = 0.01
    max_pulses: int = 1000
    v_set: float = 1.0
    v_reset: float = -1.0
    t_pulse: float = 100e-9
    t_verify: float = 10e-9

    _params: ClassVar[dict[str, Param]] = {
        "method": Param("choice", choices=("exact", "write_verify")),
        "tolerance": Param("real", low=0, low_open=True, high=1),
        "max_pulses": Param("int", low=1, high=10**6),
        "v_set": Param("real", low=0, low_open=True, high=20, unit="V"),
        "v_reset": Param("real", low=-20, high=0, high_open=True, unit="V"),
        "t_pulse": Param("real", low=0, low_open=True, high=1, unit="s"),
        "t_verify": Param("real", low=0, low_open=True, high=1, unit="s"),
    }


@dataclasses.dataclass(frozen=True)
class CostModel(PlainConfig):
    """Per-operation energy, latency and area parameters of the periphery (defaults documented).

    Defaults are the ISAAC accelerator's component figures (Shafiee et al., "ISAAC: A Convolutional
    Neural Network Accelerator with In-Situ Analog Arithmetic in Crossbars", ISCA 2016, Table 1,
    32 nm): an 8-bit 1.2 GS/s SAR ADC at 2 mW and 0.0012 mm^2 (16 mW and 0.0096 mm^2 for 8), a
    1-bit DAC at 4 mW / 1024 = 3.9 uW and 0.00017 mm^2 / 1024. ADC energy is scaled with resolution
    by the Walden figure of merit (energy per conversion step constant, Murmann ADC survey):

    .. math:: E_\\mathrm{ADC}(b) = E_\\mathrm{ADC,8} \\, 2^{b-8}, \\qquad
              E_\\mathrm{DAC}(b) = b\\, E_\\mathrm{DAC,1}

    Parameters
    ----------
    e_adc_8bit : float
        Energy (J) of one 8-bit conversion: 2 mW / 1.2 GS/s = 1.67 pJ.
    t_adc : float
        Conversion time (s): 1 / 1.2 GS/s.
    a_adc : float
        Area of one ADC (m^2): 0.0012 mm^2.
    e_dac_1bit : float
        Energy (J) per 1-bit DAC conversion: 3.9 uW / 1.2 GHz = 3.3 fJ.
    a_dac : float
        Area (m^2) of one 1-bit DAC: 1.66e-13 m^2; a ``b``-bit DAC counts as ``b`` of them.
    columns_per_adc : int
        Columns multiplexed onto one ADC (ISAAC: 128 columns share 1 ADC; NeuroSim default 8).
    feature_size : float
        Technology feature size F (m): 32 nm.
    cell_area_f2 : float or None
        Cell area in F^2; ``None``: 4 F^2 for 0T1R/1S1R (cross-point), 12 F^2 for 1T1R (transistor-
        limited, NeuroSim's default 1T1R cell).
    c_wire : float
        Wire capacitance per segment (F): 0.2 fF/um at a 2F = 64 nm pitch = 1.3e-17 F.
    t_read : float
        Integration time of one read (s) (the read pulse width).
    exact_circuit_power : bool
        In ``circuit`` mode with linear cells, account the array energy as the exact power the
        drivers deliver, :math:`t\\, v^T Y v` (cells and wires, with IR drop), at the price of a
        second matrix product per read; default ``False``: :math:`t \\sum_{ij} G_{ij} V_i^2` as in the
        other modes. Nonlinear circuit reads always report the exact power.
    """

    e_adc_8bit: float = 2e-3 / 1.2e9
    t_adc: float = 1 / 1.2e9
    a_adc: float = 0.0012e-6
    e_dac_1bit: float = (4e-3 / 1024) / 1.2e9
    a_dac: float = 0.00017e-6 / 1024
    columns_per_adc: int = 8
    feature_size: float = 32e-9
    cell_area_f2: float | None = None
    c_wire: float = 0.2e-15 * 0.064
    t_read: float = 10e-9
    exact_circuit_power: bool = False

    _params: ClassVar[dict[str, Param]] = {
        "e_adc_8bit": Param("real", low=0, unit="J"),
        "t_adc": Param("real", low=0, unit="s"),
        "a_adc": Param("real", low=0, unit="m^2"),
        "e_dac_1bit": Param("real", low=0, unit="J"),
        "a_dac": Param("real", low=0, unit="m^2"),
        "columns_per_adc": Param("int", low=1),
        "feature_size": Param("real", low=0, low_open=True, high=1e-5, unit="m"),
        "cell_area_f2": Param("real", low=0, low_open=True, optional=True),
        "c_wire": Param("real", low=0, unit="F"),
        "t_read": Param("real", low=0, low_open=True, high=1, unit="s"),
        "exact_circuit_power": Param("bool"),
    }


_SUB = {"dac": DAC, "adc": ADC, "programming": Programming, "cost": CostModel}


@dataclasses.dataclass(frozen=True)
class CrossbarConfig(PlainConfig):
    """Everything that defines a crossbar: device, cell, tiles, wires, readout, mapping, periphery.

    Parameters
    ----------
    device : str, device model or None
        A device card name or path (``neurosim.devices.load_device``) or a model object; ``None`` is
        an ideal linear conductance with the window ``[g_min, g_max]``.
    cell : {"0T1R", "1T1R", "1S1R"}
        Cross-point cell from the ``circuits/`` library (passive, transistor access, selector).
    tile_rows, tile_cols : int
        Physical tile size (rows = inputs, columns = physical columns; a differential pair uses two).
    r_wire : float
        Wire resistance (ohm) per segment between adjacent cross-points, rows and columns.
    r_driver : float
        Output resistance (ohm) of each row driver.
    readout : {"tia", "sense"}
        Columns held at virtual ground by a transimpedance amplifier (gain ``tia_gain`` ohm), or read
        as the voltage across a sense resistor ``r_sense`` to ground.
    tia_gain, r_sense : float
        Transimpedance (ohm) and sense resistance (ohm).
    mapping : {"differential", "reference"}
        Signed weights as ``G+ - G-`` column pairs, or as ``G - g_ref`` against one reference column
        of ``g_ref = (g_min + g_max) / 2`` per tile (subtracted in analog before the ADC).
    g_min, g_max : float or None
        Conductance window (S); ``None`` takes it from the device.
    levels : int or None
        Number of programmable conductance levels (``None``: continuous or the device's own).
    w_max : float or None
        Weight full scale mapped to the window; ``None``: ``max |W|`` of the programmed matrix.
    clip : bool
        Clip weights beyond ``w_max`` (otherwise they are an error).
    dac, adc : DAC, ADC
        Converters.
    mode : {"ideal", "device", "circuit"}
        Read mode (see :class:`~neurosim.crossbar.Crossbar`).
    nonidealities : tuple
        ``neurosim.devices`` non-ideality objects applied in ``device`` and ``circuit`` modes.
    programming : Programming
        Write(-verify) parameters.
    read_disturb : bool
        Update device states with the voltages of each read.
    cost : CostModel
        Energy/latency/area parameters.
    r_on_access, r_off_access : float
        On and off resistance (ohm) of the 1T1R access transistor (the netlist's smooth switch; the
        word line of a selected row is at 3.3 V, threshold 0.7 V, width 0.05 V).
    selector_is, selector_n : float
        Saturation current (A) and ideality factor of the 1S1R selector diode.
    read_path : {"auto", "per_tile"}
        ``auto``: the compiled read wherever the cells read linearly (see
        :mod:`neurosim.crossbar.readplan`), otherwise tile by tile; ``per_tile``: always tile by tile
        (the reference variant, same results to rounding and in distribution).
    seed : int or None
        Root seed of the crossbar's random streams (variability, faults, programming, drift, read
        noise), expanded by stable keys (:mod:`neurosim.seeding`); ``None`` means 0.
    drift_compensation : {None, "global", "per_column"}
        Scale the outputs of a read at time ``t`` by factors measured with reference reads (see
        :meth:`~neurosim.crossbar.Crossbar.compensation`): one factor per crossbar (``"global"``,
        aihwkit's ``GlobalDriftCompensation``) or one per output (``"per_column"``). Only for reads
        with a time ``t`` in ``device``/``circuit`` mode; its reads are counted in the cost.
    """

    device: Any = None
    cell: str = "0T1R"
    tile_rows: int = 128
    tile_cols: int = 128
    r_wire: float = 1.0
    r_driver: float = 0.0
    readout: str = "tia"
    tia_gain: float = 1e4
    r_sense: float = 100.0
    mapping: str = "differential"
    g_min: float | None = None
    g_max: float | None = None
    levels: int | None = None
    w_max: float | None = None
    clip: bool = False
    dac: DAC = dataclasses.field(default_factory=DAC)
    adc: ADC = dataclasses.field(default_factory=ADC)
    mode: str = "ideal"
    nonidealities: tuple = ()
    programming: Programming = dataclasses.field(default_factory=Programming)
    read_disturb: bool = False
    cost: CostModel = dataclasses.field(default_factory=CostModel)
    r_on_access: float = 1e3
    r_off_access: float = 1e12
    selector_is: float = 1e-15
    selector_n: float = 1.0
    read_path: str = "auto"
    seed: int | None = None
    drift_compensation: str | None = None

    _params: ClassVar[dict[str, Param]] = {
        "cell": Param("choice", choices=("0T1R", "1T1R", "1S1R")),
        "tile_rows": Param("int", low=1, high=65536),
        "tile_cols": Param("int", low=2, high=65536),
        "r_wire": Param("real", low=0, unit="ohm"),
        "r_driver": Param("real", low=0, unit="ohm"),
        "readout": Param("choice", choices=("tia", "sense")),
        "tia_gain": Param("real", low=0, low_open=True, unit="ohm"),
        "r_sense": Param("real", low=0, low_open=True, unit="ohm"),
        "mapping": Param("choice", choices=("differential", "reference")),
        "g_min": Param("real", low=0, unit="S", optional=True),
        "g_max": Param("real", low=0, low_open=True, unit="S", optional=True),
        "levels": Param("int", low=2, optional=True),
        "w_max": Param("real", low=0, low_open=True, optional=True),
        "clip": Param("bool"),
        "mode": Param("choice", choices=("ideal", "device", "circuit")),
        "read_disturb": Param("bool"),
        "r_on_access": Param("real", low=0, low_open=True, unit="ohm"),
        "r_off_access": Param("real", low=0, low_open=True, unit="ohm"),
        "selector_is": Param("real", low=0, low_open=True, unit="A"),
        "selector_n": Param("real", low=0.5, high=10),
        "read_path": Param("choice", choices=("auto", "per_tile")),
        "seed": Param("int", low=0, optional=True),
        "drift_compensation": Param("choice", choices=("global", "per_column"), optional=True),
    }

    def _check(self) -> None:
        super()._check()
        for name, cls in _SUB.items():
            value = getattr(self, name)
            if isinstance(value, dict):
                value = cls.from_dict(value)
                object.__setattr__(self, name, value)
            if not isinstance(value, cls):
                raise ParameterError(f"CrossbarConfig: {name} must be a {cls.__name__}, got {value!r}")
        if isinstance(self.nonidealities, list):
            object.__setattr__(self, "nonidealities", tuple(self.nonidealities))
        if not isinstance(self.nonidealities, tuple):
            raise ParameterError(
                f"CrossbarConfig: nonidealities must be a list or tuple of non-ideality objects, got {self.nonidealities!r}"
            )
        if self.device is not None and not isinstance(self.device, (str, Path)) and not hasattr(self.device, "current"):
            raise ParameterError(
                f"CrossbarConfig: device must be a card name, a path or a device model with current(state, v), got {self.device!r}"
            )
        if isinstance(self.device, Path):
            object.__setattr__(self, "device", str(self.device))
        if self.g_min is not None and self.g_max is not None and not self.g_min < self.g_max:
            raise ParameterError(f"CrossbarConfig: g_min must be < g_max, got g_min={self.g_min!r}, g_max={self.g_max!r}")
        if self.mapping == "differential" and self.tile_cols % 2:
            raise ParameterError(
                f"CrossbarConfig: tile_cols must be even for mapping='differential' (column pairs), got {self.tile_cols}"
            )

    # -- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A plain dict (nested dicts for the converters; device models and non-idealities as tables).

        Raises
        ------
        ParameterError
            A device model or non-ideality that cannot be represented as plain data.
        """
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _SUB:
                value = value.to_dict()
            elif f.name == "device" and value is not None and not isinstance(value, str):
                value = _object_to_dict("device", value)
            elif f.name == "nonidealities":
                value = [_object_to_dict("nonidealities", v) for v in value]
            out[f.name] = value
        return out

    @classmethod
    def _from_plain(cls, kwargs: dict) -> dict:
        # converter/programming/cost tables become their dataclasses in _check
        if isinstance(kwargs.get("device"), dict):
            kwargs["device"] = _object_from_dict("device", kwargs["device"])
        if "nonidealities" in kwargs:
            kwargs["nonidealities"] = tuple(_object_from_dict("nonidealities", d) for d in kwargs["nonidealities"])
        return kwargs


def _object_to_dict(field: str, obj) -> dict:
    """A device model or non-ideality as ``{"type": name, **fields}`` (non-idealities by registry name)."""
    if hasattr(obj, "to_dict"):
        data = dict(obj.to_dict())
    elif dataclasses.is_dataclass(obj):
        data = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    else:
        raise ParameterError(f"CrossbarConfig: {field} entry {obj!r} is not a dataclass and has no to_dict()")
    if field == "nonidealities":
        from neurosim.devices.nonideal import nonideality_name  # lower layer, imported when used

        data["type"] = nonideality_name(obj)
    else:
        data.setdefault("type", type(obj).__name__)
    return data


def _object_from_dict(field: str, data: dict):
    """Inverse of :func:`_object_to_dict`: non-idealities from the explicit registry
    (``neurosim.devices.nonideality_class``), device models from the registry of model families."""
    if not isinstance(data, dict) or "type" not in data:
        raise ParameterError(f"CrossbarConfig: {field} entries must be tables with a 'type' key, got {str(data)[:200]}")
    kwargs = dict(data)
    name = kwargs.pop("type")
    if field == "nonidealities":
        from neurosim.devices.nonideal import nonideality_class

        try:
            cls = nonideality_class(name)
        except ParameterError as exc:
            raise ParameterError(f"CrossbarConfig: nonidealities: {exc}") from None
    else:
        from neurosim.devices.cards import model_class

        cls = model_class(name)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(kwargs) - fields)
    if unknown:
        raise ParameterError(f"CrossbarConfig: {field} entry of type {name!r}: unknown key(s) {unknown}; "
                             f"allowed: {sorted(fields)}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ParameterError(f"CrossbarConfig: {field} entry of type {name!r}: {exc}") from None

"""``HardwareConfig``: one plain, serialisable description of the hardware a network runs on."""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import ClassVar

import numpy as np

from neurosim.analog.activation import ACTIVATION_IMPLS, AnalogActivation
from neurosim.cells.base import WeightInfo
from neurosim.config import FrozenMapping, PlainConfig, dumps, freeze, thaw
from neurosim.crossbar.config import CrossbarConfig
from neurosim.errors import ParameterError
from neurosim.params import Param
from neurosim.seeding import derive

__all__ = ["HardwareConfig"]

# Crossbar fields HardwareConfig sets itself; crossbar_options may not override them.
_OWN = {"device", "tile_rows", "tile_cols", "mapping", "mode", "nonidealities", "read_disturb", "seed",
        "drift_compensation"}


@dataclasses.dataclass(frozen=True)
class HardwareConfig(PlainConfig):
    r"""The hardware a recurrent network is executed on: crossbars, converters, neuron periphery.

    Every weight matrix of a cell gets its own crossbar (split over tiles) built from
    :meth:`crossbar_config`; biases, element-wise gate products and the sums of partial results are
    computed by the digital periphery. Converters are sign-magnitude with :math:`N = 2^{b-1} - 1`
    steps over their full scale; ``None`` bits means an ideal (infinite-precision) converter.

    .. math::

        y = \mathrm{ADC}\big(\,G_{prog}\;\mathrm{DAC}(x)\big), \qquad
        h_{stored} = \frac{s}{N_s}\,\mathrm{round}\!\Big(N_s\,\mathrm{clip}\big(\tfrac{h}{s}, -1, 1\big)\Big)

    Parameters
    ----------
    device : str, device model or None
        Device card name or path (see ``neurosim.devices``), or a device model object (e.g. a
        card's model with a parameter changed, as a study sweeps it); ``None``: an ideal linear
        conductance in the crossbar's window.
    tile_rows, tile_cols : int
        Maximum tile size (cross-points); larger matrices are split and partial sums added.
    mapping : {"differential", "reference"}
        Signed weights on ``G+ - G-`` column pairs or against a reference column.
    read_mode : {"ideal", "device", "circuit"}
        Crossbar read mode: exact programmed conductances; plus device non-idealities and
        converters; plus wires and sneak paths (full circuit solution).
    dac_bits, adc_bits : int or None
        Converter resolutions (incl. sign); ``None`` = ideal.
    adc_noise : float
        Input-referred readout noise (transimpedance stage and ADC), rms, as a fraction of the ADC
        full scale; one draw per conversion (:class:`~neurosim.crossbar.ADC` ``noise``).
    input_range : float
        DAC full scale for the network's external input (layer 0), in input units.
    state_range : float
        DAC full scale for stored states read by a crossbar (hidden/output states and the next
        layer's input), and full scale of the state storage ADC (1 suits tanh/sigmoid states).
    activation : {"ideal", "amplifier", "pwl"}
        Neuron periphery, see :class:`~neurosim.analog.AnalogActivation`.
    act_gain, act_offset, act_rail, act_linear_rail : float
        Gain, input offset and rails of the activation circuits (normalised units).
    state_bits : int or None
        Storage of states between steps: ``None`` = sample-and-hold (exact), or an ADC of that
        many bits over ``[-state_range, state_range]``; applied where a stored state is read by a
        crossbar (recurrent, next-layer and output crossbars).
    nonidealities : tuple
        ``neurosim.devices`` non-ideality objects (noise, variability, faults, drift) applied in
        ``device`` and ``circuit`` modes.
    step_time : float or None
        Duration of one recurrent time step (s). When set, the crossbars are read at time
        ``t_start + t * step_time`` after programming, so drift evolves along one sequence.
    t_start : float
        Time (s) between programming and the first step. Without ``step_time`` every read happens
        at ``t_start`` (the deployment time; ``0`` reads without a time, as before).
    drift_compensation : {None, "global", "per_column"}
        Drift compensation of every crossbar (:meth:`~neurosim.crossbar.Crossbar.compensation`).
    read_disturb : bool
        Let every read update the device states (read disturb), evolving along the sequence.
    seed : int
        Root seed (default 0; never OS entropy): the crossbar of weight ``name`` draws every random
        number (variability, faults, programming, drift, read noise) from
        ``SeedSequence(seed).spawn``-style child ``derive(seed, "crossbar", name)``
        (:mod:`neurosim.seeding`), independent of the order crossbars are built in.
    crossbar_options : mapping
        Any other :class:`~neurosim.crossbar.CrossbarConfig` field (``cell``, ``r_wire``,
        ``levels``, ``programming``, ``cost``, ``dac``/``adc`` tables for encoding or range, ...);
        held as a :class:`~neurosim.config.FrozenMapping` so that the configuration is hashable.

    Raises
    ------
    ParameterError
        A field out of range or a crossbar option the crossbar refuses.

    Examples
    --------
    >>> hw = HardwareConfig(read_mode="device", dac_bits=8, adc_bits=8, crossbar_options={"r_wire": 2.0})
    >>> HardwareConfig.from_toml(hw.to_toml()) == hw
    True
    >>> hw.crossbar_config("weight_hh_l0").dac.bits
    8
    >>> len({hw, hw.replace(seed=0)})   # frozen and hashable: a key for caches and studies
    1
    """

    device: object = None
    tile_rows: int = 128
    tile_cols: int = 128
    mapping: str = "differential"
    read_mode: str = "ideal"
    dac_bits: int | None = None
    adc_bits: int | None = None
    adc_noise: float = 0.0
    input_range: float = 1.0
    state_range: float = 1.0
    activation: str = "ideal"
    act_gain: float = 1.0
    act_offset: float = 0.0
    act_rail: float = 1.0
    act_linear_rail: float | None = None
    state_bits: int | None = None
    nonidealities: tuple = ()
    step_time: float | None = None
    t_start: float = 0.0
    read_disturb: bool = False
    seed: int = 0
    crossbar_options: FrozenMapping = dataclasses.field(default_factory=FrozenMapping)
    drift_compensation: str | None = None

    _params: ClassVar[dict[str, Param]] = {
        "tile_rows": Param("int", low=1, high=65536),
        "tile_cols": Param("int", low=2, high=65536),
        "mapping": Param("choice", choices=("differential", "reference")),
        "read_mode": Param("choice", choices=("ideal", "device", "circuit")),
        "dac_bits": Param("int", low=2, high=24, optional=True),
        "adc_bits": Param("int", low=2, high=24, optional=True),
        "adc_noise": Param("real", low=0, high=1),
        # the DAC full scale: within float64's comfortable range (its reciprocal and square stay finite)
        "input_range": Param("real", low=1e-100, high=1e100),
        "state_range": Param("real", low=1e-100, high=1e100),
        "activation": Param("choice", choices=ACTIVATION_IMPLS),
        "act_gain": Param("real", low=0, low_open=True),
        "act_offset": Param("real"),
        "act_rail": Param("real", low=0, low_open=True),
        "act_linear_rail": Param("real", low=0, low_open=True, optional=True),
        "state_bits": Param("int", low=2, high=24, optional=True),
        "step_time": Param("real", low=0, low_open=True, unit="s", optional=True),
        "t_start": Param("real", low=0, unit="s"),
        "drift_compensation": Param("choice", choices=("global", "per_column"), optional=True),
        "read_disturb": Param("bool"),
        "seed": Param("int", low=0),
    }

    def _check(self) -> None:
        super()._check()
        if isinstance(self.device, Path):
            object.__setattr__(self, "device", str(self.device))
        if not (self.device is None or isinstance(self.device, str) or hasattr(self.device, "current")):
            raise ParameterError(
                f"HardwareConfig: device must be a card name, a path, a device model with current(state, v) or None, "
                f"got {self.device!r}"
            )
        if isinstance(self.nonidealities, list):
            object.__setattr__(self, "nonidealities", tuple(self.nonidealities))
        if not isinstance(self.nonidealities, tuple):
            raise ParameterError(
                f"HardwareConfig: nonidealities must be a tuple of non-ideality objects, got {self.nonidealities!r}"
            )
        from collections.abc import Mapping

        if not isinstance(self.crossbar_options, Mapping):
            raise ParameterError(f"HardwareConfig: crossbar_options must be a dict of CrossbarConfig fields, got {self.crossbar_options!r}")
        object.__setattr__(self, "crossbar_options", freeze(self.crossbar_options))
        clash = sorted(_OWN & set(self.crossbar_options))
        if clash:
            raise ParameterError(
                f"HardwareConfig: crossbar_options must not set {clash}; use the HardwareConfig fields of that name "
                "(read_mode for 'mode')"
            )
        fields = [f.name for f in dataclasses.fields(CrossbarConfig) if f.name not in _OWN]
        for key in self.crossbar_options:
            if key not in fields:
                close = difflib.get_close_matches(str(key), fields, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ParameterError(
                    f"HardwareConfig: crossbar_options has unknown CrossbarConfig field {key!r}{hint}; allowed: {sorted(fields)}"
                )
        self.crossbar_config("weight_ih_l0")  # let the crossbar validate everything now, not at first use

    # ----------------------------------------------------------------------------------- building
    def activation_impl(self) -> AnalogActivation:
        """The neuron periphery's transfer curves."""
        return AnalogActivation(self.activation, self.act_gain, self.act_offset, self.act_rail, self.act_linear_rail)

    def dac_range(self, info: WeightInfo) -> float:
        """DAC full scale of the crossbar holding a weight, from what drives it.

        ``input_range`` for the network's external input, ``state_range`` for a value the network
        computed, their product for second-order rows (a state times the layer's input).
        """
        layer_input = self.input_range if info.layer == 0 else self.state_range
        if info.drive == "state*input":
            return self.state_range * layer_input
        return layer_input if info.drive == "input" else self.state_range

    def crossbar_seed(self, name: str) -> np.random.SeedSequence:
        """Root of the random streams of the crossbar holding ``name``: ``derive(seed, "crossbar", name)``."""
        return derive(self.seed, "crossbar", name)

    def crossbar_config(self, name: str, info: WeightInfo | None = None) -> CrossbarConfig:
        """The :class:`~neurosim.crossbar.CrossbarConfig` of the crossbar holding weight ``name``.

        Parameters
        ----------
        name : str
            The weight's ``state_dict`` key (``"weight_hh_l0"``).
        info : WeightInfo, optional
            What drives it (:meth:`~neurosim.cells.base.RecurrentBase.weight_info`), which sets
            the DAC range; default: the network's external input.

        Returns
        -------
        CrossbarConfig
            Its ``seed`` is left unset: the crossbar is seeded with :meth:`crossbar_seed`.
        """
        if info is None:
            info = WeightInfo(name, name, 0, 0, "input")
        opts = thaw(self.crossbar_options)
        dac = dict(opts.pop("dac", {}) or {})
        adc = dict(opts.pop("adc", {}) or {})
        dac.update(bits=self.dac_bits, x_max=self.dac_range(info))
        adc.update(bits=self.adc_bits, noise=self.adc_noise)
        return CrossbarConfig(
            device=self.device, tile_rows=self.tile_rows, tile_cols=self.tile_cols, mapping=self.mapping,
            mode=self.read_mode, nonidealities=self.nonidealities, read_disturb=self.read_disturb,
            drift_compensation=self.drift_compensation,
            dac=dac, adc=adc, **opts,
        )

    # ------------------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        """Plain data (non-idealities as ``{"type": ..., **fields}`` tables)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        plain = CrossbarConfig(device=self.device, nonidealities=self.nonidealities).to_dict()
        out["nonidealities"], out["device"] = plain["nonidealities"], plain["device"]
        out["crossbar_options"] = thaw(self.crossbar_options)
        return out

    @classmethod
    def _from_plain(cls, kwargs: dict) -> dict:
        if kwargs.get("nonidealities"):
            kwargs["nonidealities"] = CrossbarConfig.from_dict({"nonidealities": list(kwargs["nonidealities"])}).nonidealities
        if isinstance(kwargs.get("device"), dict):
            kwargs["device"] = CrossbarConfig.from_dict({"device": kwargs["device"]}).device
        return kwargs

    def to_toml(self, path: str | Path | None = None) -> str:
        """TOML text of :meth:`to_dict` (``None`` fields and empty tables omitted); also written to
        ``path`` if given."""
        data = {k: v for k, v in self.to_dict().items() if not (k in ("crossbar_options", "nonidealities") and not v)}
        text = dumps(data)
        if path is not None:
            Path(path).write_text(text)
        return text

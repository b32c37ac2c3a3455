"""Memristor device models, device cards and non-idealities.

Models (pure, vectorised ``current(state, v)``, ``dcurrent_dv``, ``dstate_dt``, ``step``,
``spice_subckt``, ``equations``): :class:`LinearIonDrift` (Strukov 2008 with the Joglekar, Biolek
and Prodromakis windows), :class:`TEAM`, :class:`VTEAM`, :class:`Yakopcic`, and the behavioural
:class:`SoftBoundsDevice` for programming studies, :class:`LinearConductance` (a device described by
its statistics, e.g. PCM with :mod:`neurosim.devices.pcm`), :class:`GateControlledRRAM` (1T1R,
gate-controlled SET, Li et al. 2019), the short-term-memory :class:`VolatileMemristor` of
reservoirs. Cards: :func:`load_device`. Non-idealities:
:mod:`neurosim.devices.nonideal`.

Examples
--------
>>> from neurosim.devices import load_device
>>> m = load_device("vteam_kvatinsky2015")
>>> float(m.dstate_dt(m.initial_state, 0.01))   # below v_off = 0.02 V: no motion
0.0
"""

from .base import DeviceModel
from .cards import DeviceCard, list_devices, load_device, read_card
from .conductance import LinearConductance, SoftBoundsDevice
from .drift import LinearIonDrift
from .nonideal import (
    CycleToCycleNoise,
    DeviceToDeviceVariability,
    FaultMap,
    FiniteLevels,
    NonIdealities,
    NonlinearReadIV,
    ReadNoise,
    RetentionDrift,
    StuckAtFaults,
    nonideality_class,
    register_nonideality,
)
from .pcm import PCMDrift, PCMProgrammingNoise, PCMReadNoise, pcm_mean_drift_factor, pcm_nonidealities, pcm_nu_stats
from .plot import plot_iv, plot_state
from .rram1t1r import GateControlledRRAM
from .simulate import Trace, simulate
from .team import TEAM, VTEAM
from .volatile import VolatileMemristor
from .yakopcic import Yakopcic

__all__ = [
    "DeviceModel",
    "VolatileMemristor",
    "LinearIonDrift",
    "TEAM",
    "VTEAM",
    "Yakopcic",
    "SoftBoundsDevice",
    "LinearConductance",
    "GateControlledRRAM",
    "PCMProgrammingNoise",
    "PCMDrift",
    "PCMReadNoise",
    "pcm_nonidealities",
    "pcm_nu_stats",
    "pcm_mean_drift_factor",
    "DeviceCard",
    "load_device",
    "read_card",
    "list_devices",
    "DeviceToDeviceVariability",
    "CycleToCycleNoise",
    "ReadNoise",
    "StuckAtFaults",
    "FaultMap",
    "RetentionDrift",
    "FiniteLevels",
    "NonlinearReadIV",
    "NonIdealities",
    "register_nonideality",
    "nonideality_class",
    "simulate",
    "Trace",
    "plot_iv",
    "plot_state",
]

"""Element kinds and element groups: the array storage behind a netlist.

Every element kind has a fixed tuple of terminals and a declared table of parameters. Elements are
stored in :class:`ElementGroup` objects -- one per bulk add (single adds are buffered and merged) --
holding names, node indices and parameter arrays, never one Python object per element.

Element equations (current ``i`` flows from the first to the second terminal through the element):

===========  ==============================  ==============================================================
kind         terminals                       equation
===========  ==============================  ==============================================================
resistor     n1, n2                          :math:`i = (v_1 - v_2) / R`
capacitor    n1, n2                          :math:`i = C\\, d(v_1 - v_2)/dt` (initial voltage ``ic``)
vsource      np, nn                          :math:`v_p - v_n = V(t)`; branch current flows np -> nn inside
isource      np, nn                          :math:`i = I(t)` from np through the source to nn
vcvs         np, nn, ncp, ncn                :math:`v_p - v_n = A (v_{cp} - v_{cn})`
vccs         np, nn, ncp, ncn                :math:`i = g_m (v_{cp} - v_{cn})` from np through the source to nn
inductor     n1, n2                          :math:`v_1 - v_2 = L\\, di/dt` (branch current ``i``; initial current ``ic``)
cccs         np, nn (+ control)              :math:`i = \\beta\\, i_{ctrl}` from np through the source to nn
ccvs         np, nn (+ control)              :math:`v_p - v_n = r\\, i_{ctrl}`
diode        anode, cathode                  :math:`i = I_s (e^{v_j / (n V_T)} - 1)`, :math:`v_j = v_{ak} - i R_s` (SPICE level 1, below)
switch       n1, n2, ncp, ncn                :math:`i = g(v_c)(v_1 - v_2)`, see below
bcurrent     np, nn                          :math:`i = f(\\ldots)` from np through the source to nn (B source ``I=``)
bvoltage     np, nn                          :math:`v_p - v_n = f(\\ldots)`, branch current as a V source (``V=``)
device       np, nn                          :math:`i = \\text{model.current}(x, v_p - v_n)`, :math:`\\dot x =
                                             \\text{model.dstate\\_dt}(x, v)`
===========  ==============================  ==============================================================

``vsource`` and ``isource`` also carry an optional small-signal (``.ac``) amplitude ``ac_mag`` (V or A)
and phase ``ac_phase`` (degree); NaN means "not given" (0 in an AC analysis). ``cccs`` and ``ccvs``
are controlled by the branch current ``i_ctrl`` of another element (a V source, VCVS or CCVS, as
in ngspice) named in the group's ``controls``.

The switch (1T1R access device) is a smooth voltage-controlled conductance, exactly reproducible by
an ngspice behavioural source
``B1 n1 n2 I = V(n1,n2)*(goff + (gon-goff)/(1+exp(-(V(ncp,ncn)-vt)/vw)))``:

.. math:: g(v_c) = g_{off} + \\frac{g_{on} - g_{off}}{1 + e^{-(v_c - v_t)/v_w}},
          \\quad g_{on} = 1/R_{on},\\ g_{off} = 1/R_{off}

The diode is SPICE's level-1 junction diode (ngspice-39 equations, see
:mod:`neurosim.solve.nonlinear`): forward and reverse regions, breakdown (``bv``, ``ibv``, ``nbv``),
series resistance, depletion (``cjo``, ``vj``, ``m``, ``fc``) and diffusion (``tt``) charge, and the
temperature scaling of ``i_s`` (``eg``, ``xti``), ``vj`` and ``cjo`` from ``tnom`` to ``temp`` (K).
Its thermal voltage is :math:`k T / q` with ngspice's (CODATA 2014) constants; at the SPICE nominal
temperature 300.15 K = 27 degC it is :data:`THERMAL_VOLTAGE`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from neurosim.params import Param

__all__ = ["ElementGroup", "KINDS", "THERMAL_VOLTAGE", "T_NOMINAL", "BOLTZMANN", "CHARGE", "DIODE_DEFAULTS", "GROUND", "CONTROLLED_BY_CURRENT", "BRANCH_KINDS", "CONTROL_KINDS"]

#: The ground node.
GROUND = "0"
#: SPICE nominal temperature, K.
T_NOMINAL = 300.15
#: Boltzmann constant, J/K, and elementary charge, C: the CODATA 2014 values that ngspice-39 uses
#: (``src/include/ngspice/const.h``), so that an imported deck means what it means to ngspice.
BOLTZMANN = 1.38064852e-23
CHARGE = 1.6021766208e-19
#: Thermal voltage k T / q at T_NOMINAL, V.
THERMAL_VOLTAGE = BOLTZMANN * T_NOMINAL / CHARGE

_POS = dict(low=0.0, low_open=True)
#: Values of the optional diode parameters when not given (NaN): ngspice-39's level-1 defaults
#: (``diosetup.c``), in SI units (temperatures in K). ``bv`` not given: no breakdown; ``nbv`` not
#: given: equal to ``n``; ``g_min``: the conductance SPICE puts across every junction (its
#: ``.options gmin``, 1e-12 S in ngspice; 0 for netlists built in Python unless given).
DIODE_DEFAULTS = {"bv": np.inf, "ibv": 1e-3, "nbv": np.nan, "cjo": 0.0, "vj": 1.0, "m": 0.5, "fc": 0.5, "tt": 0.0,
                  "eg": 1.11, "xti": 3.0, "temp": 300.15, "tnom": 300.15, "g_min": 0.0}
# small-signal source spec: optional, NaN = not given (hidden from Netlist.element when unset)
_AC = {
    "ac_mag": Param("real", unit="V or A", optional=True),
    "ac_phase": Param("real", unit="deg", optional=True),
}
#: Element kinds whose second value is the name of the controlling element (a branch current).
CONTROLLED_BY_CURRENT = ("cccs", "ccvs")
#: Element kinds with a branch-current unknown.
BRANCH_KINDS = ("vsource", "vcvs", "ccvs", "inductor", "bvoltage")
#: Element kinds that may control a ``cccs``/``ccvs`` (ngspice-39 refuses inductors there).
CONTROL_KINDS = ("vsource", "vcvs", "ccvs")


@dataclasses.dataclass(frozen=True)
class Kind:
    """Declaration of one element kind: terminals, parameters and SPICE letter."""

    name: str
    terminals: tuple[str, ...]
    params: dict[str, Param]
    letter: str
    dc_path: tuple[int, int] | None  # terminal pair conducting at DC (None: no DC path)
    has_waveform: bool = False


KINDS: dict[str, Kind] = {
    k.name: k
    for k in [
        Kind("resistor", ("n1", "n2"), {"resistance": Param("real", **_POS, unit="ohm")}, "R", (0, 1)),
        Kind(
            "capacitor",
            ("n1", "n2"),
            {"capacitance": Param("real", **_POS, unit="F"), "ic": Param("real", unit="V", optional=True)},
            "C",
            None,
        ),
        Kind("vsource", ("np", "nn"), {"dc": Param("real", unit="V"), **_AC}, "V", (0, 1), True),
        Kind("isource", ("np", "nn"), {"dc": Param("real", unit="A"), **_AC}, "I", None, True),
        Kind("vcvs", ("np", "nn", "ncp", "ncn"), {"gain": Param("real", unit="V/V")}, "E", (0, 1)),
        Kind("vccs", ("np", "nn", "ncp", "ncn"), {"gain": Param("real", unit="S")}, "G", None),
        Kind(
            "inductor",
            ("n1", "n2"),
            {"inductance": Param("real", **_POS, unit="H"), "ic": Param("real", unit="A", optional=True)},
            "L",
            (0, 1),
        ),
        Kind("cccs", ("np", "nn"), {"gain": Param("real", unit="A/A")}, "F", None),
        Kind("ccvs", ("np", "nn"), {"gain": Param("real", unit="ohm")}, "H", (0, 1)),
        Kind(
            "diode",
            ("anode", "cathode"),
            {
                "i_s": Param("real", **_POS, unit="A"),
                "n": Param("real", **_POS),
                "r_s": Param("real", low=0.0, unit="ohm"),
                # SPICE level-1 parameters; NaN (not given) means the default of DIODE_DEFAULTS
                "bv": Param("real", **_POS, unit="V", optional=True),
                "ibv": Param("real", **_POS, unit="A", optional=True),
                "nbv": Param("real", **_POS, optional=True),
                "cjo": Param("real", low=0.0, unit="F", optional=True),
                "vj": Param("real", **_POS, unit="V", optional=True),
                "m": Param("real", low=0.0, high=1.0, high_open=True, optional=True),
                "fc": Param("real", low=0.0, high=1.0, high_open=True, optional=True),
                "tt": Param("real", low=0.0, unit="s", optional=True),
                "eg": Param("real", **_POS, unit="eV", optional=True),
                "xti": Param("real", optional=True),
                "temp": Param("real", **_POS, unit="K", optional=True),
                "tnom": Param("real", **_POS, unit="K", optional=True),
                "g_min": Param("real", low=0.0, unit="S", optional=True),
            },
            "D",
            (0, 1),
        ),
        Kind(
            "switch",
            ("n1", "n2", "ncp", "ncn"),
            {
                "r_on": Param("real", **_POS, unit="ohm"),
                "r_off": Param("real", **_POS, unit="ohm"),
                "v_t": Param("real", unit="V"),
                "v_w": Param("real", **_POS, unit="V"),
            },
            "B",
            (0, 1),
        ),
        Kind("device", ("np", "nn"), {"state": Param("real")}, "X", (0, 1)),
        # behavioural sources: the expression (neurosim.spice.expr.Expression) is the group's model
        Kind("bcurrent", ("np", "nn"), {}, "B", None),
        Kind("bvoltage", ("np", "nn"), {}, "B", (0, 1)),
        # neuron circuits of neurosim.dynamics (reduced there to ODEs; the MNA engines do not stamp them):
        # amplifier: ideal nonlinear VCVS v_p - v_n = v_amp / (1 + exp(-gain (v_cp - v_cn)/V - gain theta))
        Kind(
            "amplifier",
            ("np", "nn", "ncp", "ncn"),
            {"gain": Param("real"), "theta": Param("real"), "v_amp": Param("real", **_POS, unit="V")},
            "B",
            (0, 1),
        ),
        # threshold-and-reset across n1-n2: at v_1 - v_2 = v_th, reset to v_reset and hold for t_ref
        Kind(
            "lif",
            ("n1", "n2"),
            {"v_th": Param("real", unit="V"), "v_reset": Param("real", unit="V"), "t_ref": Param("real", low=0.0, unit="s")},
            "B",
            None,
        ),
        # spike-driven synapse: each spike of the neuron (lif) or input on npre, after `delay`, adds
        # A u R to a current into npost that decays with `tau`; u, R: Markram-Tsodyks (U, D, F;
        # D = F = 0: static, u R = U)
        Kind(
            "synapse",
            ("npre", "npost"),
            {"A": Param("real", unit="A"), "U": Param("real", low=0.0, high=1.0, low_open=True),
             "D": Param("real", low=0.0, unit="s"), "F": Param("real", low=0.0, unit="s"),
             "delay": Param("real", low=0.0, unit="s"), "tau": Param("real", **_POS, unit="s")},
            "B",
            None,
        ),
        # input spike train across np-nn: the spikes of input channel `channel`, given at run time
        Kind("spikes", ("np", "nn"), {"channel": Param("real", low=0.0)}, "B", None),
    ]
}


@dataclasses.dataclass(eq=False)
class ElementGroup:
    """Elements of one kind added together, stored as arrays.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS` (``"resistor"``, ``"capacitor"``, ``"vsource"``, ``"isource"``,
        ``"vcvs"``, ``"vccs"``, ``"inductor"``, ``"cccs"``, ``"ccvs"``, ``"diode"``, ``"switch"``,
        ``"device"``, ``"bcurrent"``, ``"bvoltage"``; the neuron-circuit ``"amplifier"``, ``"lif"`` and the
        spiking ``"synapse"``, ``"spikes"``, which only :mod:`neurosim.dynamics` runs).
    names : numpy.ndarray of str, shape (n,)
        Element names.
    nodes : numpy.ndarray of int, shape (n, n_terminals)
        Indices into the owning netlist's ``node_names`` (ground is index 0), one column per
        terminal of ``KINDS[kind].terminals``.
    params : dict of str to numpy.ndarray of float, shape (n,)
        Parameter values in SI units (``ic`` uses NaN for "not given").
    waveforms : list or None
        Sources only: one waveform (or ``None``) per element; ``None`` if no element has one.
    model : object or None
        Devices only: the device model shared by the group.
    controls : numpy.ndarray of str or None
        ``cccs``/``ccvs`` only: the name of each element's controlling branch element.
    """

    kind: str
    names: np.ndarray
    nodes: np.ndarray
    params: dict[str, np.ndarray]
    waveforms: list | None = None
    model: Any = None
    controls: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.names.shape[0])

    @property
    def terminals(self) -> tuple[str, ...]:
        """Terminal names of this kind, in column order of ``nodes``."""
        return KINDS[self.kind].terminals

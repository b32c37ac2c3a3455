"""Non-idealities as a protocol: stages and composition rules, a user's subclass and a user's own
class, the configuration registry."""

import dataclasses
from typing import ClassVar

import numpy as np
import pytest

from neurosim.crossbar import Crossbar, CrossbarConfig
from neurosim.devices import (
    CycleToCycleNoise,
    NonIdealities,
    ReadNoise,
    RetentionDrift,
    StuckAtFaults,
    register_nonideality,
)
from neurosim.devices.nonideal import nonideality_class
from neurosim.errors import ParameterError


def test_two_drifts_each_apply_their_own_exponent():
    """Defect: with two RetentionDrift objects, nu was sampled from the first and applied to both."""
    W = np.array([[0.5, -0.25]])
    X = np.array([[1.0, 1.0]])
    t = 1e4
    one = Crossbar(W, CrossbarConfig(mode="device"))
    two = Crossbar(W, CrossbarConfig(mode="device", nonidealities=(RetentionDrift(0.1), RetentionDrift(0.2))))
    # each power law with its own exponent: G(t) = G0 t^-0.1 t^-0.2 on every device
    assert np.allclose(two.tiles[0].conductance_at(t), one.tiles[0].G * t ** -0.3, rtol=1e-12)
    assert np.allclose(two.matmul(X, t=t), one.matmul(X) * t ** -0.3, rtol=1e-12)


def test_two_cycle_to_cycle_noises_both_act():
    """Defect: only the first CycleToCycleNoise was used (a zero first one hid the second)."""
    W = np.full((6, 8), 0.4)
    base = dict(mode="device", device="rram_softbounds_gong2018", programming={"method": "write_verify"})
    quiet = Crossbar(W, CrossbarConfig(**base, nonidealities=(CycleToCycleNoise(0.0), CycleToCycleNoise(0.0))), seed=1)
    noisy = Crossbar(W, CrossbarConfig(**base, nonidealities=(CycleToCycleNoise(0.0), CycleToCycleNoise(0.5))), seed=1)
    assert np.ptp(quiet.tiles[0].G[:, 0::2]) == 0.0  # identical cells, identical deterministic pulses
    assert np.ptp(noisy.tiles[0].G[:, 0::2]) > 1e-3 * noisy.device.g_max


def test_read_noise_variances_add():
    ni = NonIdealities((ReadNoise(0.03), ReadNoise(0.04)))
    assert np.allclose(ni.read_std(np.array([2e-6])), 0.05 * 2e-6, rtol=1e-12)


def test_fault_maps_compose_by_union():
    ni = NonIdealities((StuckAtFaults(p_on=0.3), StuckAtFaults(p_off=0.3)))
    fm = ni.faults((200, 200), np.random.default_rng(0))
    assert not (fm.stuck_on & fm.stuck_off).any()
    # independent maps: P(on) = 0.3, P(off and not on) = 0.3 * 0.7
    assert abs(fm.stuck_on.mean() - 0.3) < 0.01 and abs(fm.stuck_off.mean() - 0.21) < 0.01


def test_a_users_subclass_is_used():
    """Defect: non-idealities were dispatched on type(x).__name__, so a subclass was ignored."""

    @dataclasses.dataclass(frozen=True)
    class MyReadNoise(ReadNoise):
        pass

    W = np.random.default_rng(0).uniform(-1, 1, size=(4, 6))
    X = np.ones((500, 6))
    y = Crossbar(W, CrossbarConfig(mode="device", nonidealities=(MyReadNoise(0.05),))).matmul(X)
    assert y.std(axis=0).min() > 0.01 * np.abs(W).sum(axis=1).min()


@dataclasses.dataclass(frozen=True)
class TelegraphNoise:
    """A user's own read-noise class, following the protocol without inheriting from neurosim."""

    amplitude: float
    stage: ClassVar[str] = "read_noise"

    def read_std(self, G, t=None):
        return np.full(np.shape(G), self.amplitude)


def test_a_users_own_class_and_the_registry():
    W = np.ones((2, 3))
    y = Crossbar(W, CrossbarConfig(mode="device", nonidealities=(TelegraphNoise(1e-6),))).matmul(np.ones((400, 3)))
    assert y.std() > 0
    cfg = CrossbarConfig(nonidealities=(TelegraphNoise(2e-6),))
    with pytest.raises(ParameterError, match="not registered"):
        cfg.to_toml()
    register_nonideality(TelegraphNoise)
    assert CrossbarConfig.from_toml(cfg.to_toml()) == cfg


@pytest.mark.parametrize("name", ["simulate", "plot_iv", "__class__", "load_device", "ReadNoize"])
def test_config_types_come_only_from_the_registry(name):
    """Defect: a config's ``type`` could name any callable of neurosim.devices."""
    with pytest.raises(ParameterError, match="non-ideality type must be one of") as err:
        CrossbarConfig.from_dict({"nonidealities": [{"type": name}]})
    if name == "ReadNoize":
        assert "did you mean 'ReadNoise'" in str(err.value)


def test_config_entries_with_unknown_keys_are_named():
    with pytest.raises(ParameterError, match="unknown key\\(s\\) \\['sigmaa'\\]"):
        CrossbarConfig.from_dict({"nonidealities": [{"type": "ReadNoise", "sigmaa": 0.1}]})
    with pytest.raises(ParameterError, match="device type must be one of"):
        CrossbarConfig.from_dict({"device": {"type": "__class__"}})


def test_protocol_is_checked_where_the_user_makes_the_mistake():
    with pytest.raises(ParameterError, match="stage"):
        NonIdealities((object(),))

    class Half:
        stage = "drift"

        def sample(self, G, rng):
            return None

    with pytest.raises(ParameterError, match="\\['at'\\]"):
        NonIdealities((Half(),))
    with pytest.raises(ParameterError, match="register_nonideality"):
        register_nonideality(Half)
    assert nonideality_class("ReadNoise") is ReadNoise

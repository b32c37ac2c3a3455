"""The one seed policy: root seed expanded by stable keys."""

import subprocess
import sys

import numpy as np
import pytest

from neurosim.errors import ParameterError
from neurosim.seeding import derive, key_int, rng


def test_same_root_and_key_bit_identical_and_keys_independent():
    a = rng(5, "weight_hh_l0").standard_normal(20000)
    b = rng(5, "weight_hh_l0").standard_normal(20000)
    c = rng(5, "weight_ih_l0").standard_normal(20000)
    assert np.array_equal(a, b)
    # independent streams: correlation of 20000 pairs within 5 standard errors of 0
    assert abs(np.corrcoef(a, c)[0, 1]) < 5 / np.sqrt(20000)


def test_none_is_the_default_root_zero_and_generator_roots_like_its_seed():
    assert rng(None, "x").random() == rng(0, "x").random()
    assert rng(np.random.default_rng(9), "x").random() == rng(9, "x").random()
    g = np.random.default_rng(1)
    assert rng(g) is g


def test_nested_keys_flatten_and_new_keys_do_not_disturb_old_streams():
    assert derive(1, ("a", 2), "b").spawn_key == derive(1, "a", 2, "b").spawn_key
    assert derive(1, "a").spawn_key != derive(1, "b").spawn_key


def test_string_keys_stable_across_processes():
    code = "from neurosim.seeding import key_int; print(key_int('crossbar/weight_hh_l0'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert int(out) == key_int("crossbar/weight_hh_l0")


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3", [1]])
def test_bad_seeds_are_refused(bad):
    with pytest.raises(ParameterError, match="seed must be"):
        rng(bad)


@pytest.mark.parametrize("bad", [-2, 1.0, None, b"x"])
def test_bad_keys_are_refused(bad):
    with pytest.raises(ParameterError, match="key must be"):
        derive(0, bad)

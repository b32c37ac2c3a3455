"""Box–Muller draws against the normal distribution (scipy.stats as the independent reference)."""

import numpy as np
import pytest
from scipy import stats

from neurosim.sampling import fill_standard_normal, normal_from_variance


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 200_001])
def test_draws_are_standard_normal(dtype, n):
    out = fill_standard_normal(np.random.default_rng(3), np.empty(n, dtype=dtype))
    assert out.dtype == dtype and np.isfinite(out).all()
    if n > 1000:
        # Kolmogorov-Smirnov against N(0, 1), and the two halves (cos and sin) independent of each other
        assert stats.kstest(out, "norm").pvalue > 1e-3
        half = n // 2
        assert abs(np.corrcoef(out[:half], out[half : 2 * half])[0, 1]) < 0.01
        assert abs(stats.kurtosis(out)) < 0.05


def test_same_seed_same_draws_and_shapes():
    a = fill_standard_normal(np.random.default_rng(5), np.empty((3, 4, 5), dtype=np.float32))
    b = fill_standard_normal(np.random.default_rng(5), np.empty((3, 4, 5), dtype=np.float32))
    assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="C-contiguous"):
        fill_standard_normal(np.random.default_rng(5), np.empty((4, 6))[:, ::2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normal_from_variance_scales_each_draw_by_its_own_standard_deviation(dtype):
    # n odd and > 2 passes of pairs: the cos/sin halves, the pass boundaries and the unpaired last draw
    n = 3 * 32768 * 2 + 1
    sd = np.where(np.arange(n) % 3 == 0, 0.0, np.where(np.arange(n) % 3 == 1, 0.5, 4.0)).astype(dtype)
    x = normal_from_variance(np.random.default_rng(11), (sd * sd).astype(dtype))
    assert x.dtype == dtype and np.isfinite(x).all()
    assert np.all(x[sd == 0] == 0)
    for s in (0.5, 4.0):
        z = x[sd == s] / s
        assert stats.kstest(z, "norm").pvalue > 1e-3
        # tails against the normal: P(|z| > 3) = 2.70e-3 (binomial standard error ~1.6e-4 here)
        assert abs(np.mean(np.abs(z) > 3) - 2 * stats.norm.sf(3)) < 6e-4


def test_the_tail_reaches_beyond_six_sigma():
    # the radius keeps its relative precision near u1 = 0: |z| > 5 occurs at the normal's rate
    z = fill_standard_normal(np.random.default_rng(2), np.empty(20_000_000, dtype=np.float32))
    expected = 2 * stats.norm.sf(5) * z.size  # 11.5
    assert stats.poisson(expected).ppf(1e-4) <= np.sum(np.abs(z) > 5) <= stats.poisson(expected).isf(1e-4)
    assert np.abs(z).max() < 7.45  # the float32 tail cut: sqrt(2 * 40 ln 2)


def test_bad_arrays_are_refused():
    with pytest.raises(ValueError, match="float32 or float64"):
        normal_from_variance(np.random.default_rng(0), np.ones(4, dtype=np.int64))
    assert normal_from_variance(np.random.default_rng(0), np.empty(0)).size == 0

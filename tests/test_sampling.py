"""Box–Muller draws against the normal distribution (scipy.stats as the independent reference)."""

import numpy as np
import pytest
from scipy import stats

from neurosim.sampling import fill_standard_normal


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

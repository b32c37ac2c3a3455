"""Box–Muller draws against the normal distribution (scipy.stats as the independent reference)."""

import numpy as np
import pytest
from scipy import stats

from neurosim.sampling import NormalStream, fill_standard_normal


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


# --- NormalStream: a deterministic, prefetched stream of draws --------------------------------------

def _read(stream, sizes, dtype=np.float32):
    return np.concatenate([stream.multiply(np.ones(n, dtype=dtype)) for n in sizes])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stream_values_do_not_depend_on_threads_or_request_sizes(dtype):
    # tiny chunks and a deep window: the worker and the reader race over many chunks
    sizes = np.random.default_rng(0).integers(1, 900, size=300)
    total = int(sizes.sum())
    ref = _read(NormalStream(np.random.default_rng(11), dtype, chunk=257, prefetch=False), [total], dtype)
    for _ in range(3):
        s = NormalStream(np.random.default_rng(11), dtype, chunk=257, ahead=8)
        got = _read(s, sizes, dtype)
        s.close()
        assert got.dtype == dtype and np.array_equal(got, ref)
    other = _read(NormalStream(np.random.default_rng(12), dtype, chunk=257, prefetch=False), [total], dtype)
    assert not np.array_equal(other, ref)


def test_stream_is_standard_normal_across_chunks():
    s = NormalStream(np.random.default_rng(4), chunk=1000)
    z = _read(s, [200_000])
    s.close()
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # chunks come from their own generators: neighbouring chunks uncorrelated, element by element
    chunks = z.reshape(200, 1000)
    assert abs(np.corrcoef(chunks[:-1].ravel(), chunks[1:].ravel())[0, 1]) < 0.01
    assert abs(np.corrcoef(chunks[:, :500].ravel(), chunks[:, 500:].ravel())[0, 1]) < 0.01


def test_stream_does_not_consume_the_parents_draws():
    rng = np.random.default_rng(8)
    NormalStream(rng, prefetch=False)
    assert rng.random() == np.random.default_rng(8).random()


def test_stream_worker_thread_stops_on_close_and_on_garbage_collection():
    import gc
    import threading

    def workers():
        return [t for t in threading.enumerate() if t.name == "neurosim-normal-prefetch"]

    before = len(workers())
    s = NormalStream(np.random.default_rng(0), chunk=100)
    s.multiply(np.ones(350, dtype=np.float32))
    assert len(workers()) == before + 1
    s.close()
    assert len(workers()) == before
    s.multiply(np.ones(350, dtype=np.float32))  # still readable, without a worker
    assert len(workers()) == before
    t = NormalStream(np.random.default_rng(0), chunk=100)
    t.multiply(np.ones(10, dtype=np.float32))
    assert len(workers()) == before + 1
    del t
    gc.collect()
    assert len(workers()) == before


def test_stream_parameter_errors():
    from neurosim.errors import ParameterError

    with pytest.raises(ParameterError, match="NormalStream: chunk must be an integer >= 1, got 0"):
        NormalStream(np.random.default_rng(0), chunk=0)
    with pytest.raises(ParameterError, match="dtype"):
        NormalStream(np.random.default_rng(0), dtype=np.int32)
    with pytest.raises(ParameterError, match="rng must be a numpy.random.Generator"):
        NormalStream(0)
    s = NormalStream(np.random.default_rng(0), prefetch=False)
    with pytest.raises(ParameterError, match="C-contiguous float32"):
        s.multiply(np.ones(4))

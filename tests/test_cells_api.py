"""neurosim.cells: argument checks, bad input, state_dict / npz I/O, seeds, dtypes and the hooks."""

import re

import numpy as np
import pytest

from neurosim.cells import GRU, LSTM, RNN, Elman, IndRNN, Jordan, SecondOrderRNN, load_npz_state_dict
from neurosim.errors import NeurosimError, ParameterError


def all_cells(**kw):
    """One small instance of every cell class (input 3, hidden 4)."""
    return [
        RNN(3, 4, **kw),
        LSTM(3, 4, **kw),
        GRU(3, 4, **kw),
        Elman(3, 4, 2, **kw),
        Jordan(3, 4, 2, **kw),
        IndRNN(3, 4, **kw),
        SecondOrderRNN(3, 4, **kw),
    ]


# ------------------------------------------------------------------------------- constructor checks
@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: LSTM(3, 0), "LSTM: hidden_size must be an integer >= 1, got 0"),
        (lambda: GRU(0, 3), "GRU: input_size must be an integer >= 1, got 0"),
        (lambda: RNN(3, 4, num_layers=0), "RNN: num_layers must be an integer >= 1, got 0"),
        (lambda: RNN(3, 4, nonlinearity="sigmoid"), "RNN: nonlinearity must be one of 'tanh', 'relu', got 'sigmoid'"),
        (lambda: LSTM(3, 4, dropout=0.5), "LSTM: dropout must be 0"),
        (lambda: LSTM(3, 4, proj_size=4), "LSTM: proj_size must be an integer in [0, hidden_size - 1] = [0, 3], got 4"),
        (lambda: LSTM(3, 4, proj_size=-1), "LSTM: proj_size must be an integer >= 0, got -1"),
        (lambda: GRU(3, 4, batch_first="yes"), "GRU: batch_first must be a bool, got 'yes'"),
        (lambda: RNN(3, 4, dtype=np.int32), "RNN: dtype must be float32, float64 or None"),
        (lambda: RNN(3, 4, seed=-1), "RNN: seed must be an integer >= 0, a numpy.random.SeedSequence, a numpy.random.Generator or None, got -1"),
        (lambda: RNN(3, 4, device="cuda"), "RNN: device must be None or 'cpu', got 'cuda'"),
        (lambda: IndRNN(3, 4, recurrent_max_abs=0), "IndRNN: recurrent_max_abs must be a real number > 0 or None, got 0"),
        (lambda: Elman(3, 4, 0), "Elman: output_size must be an integer >= 1, got 0"),
        (lambda: Jordan(3, 4, 2, output_activation="softmax"), "Jordan: output_activation must be one of"),
        (lambda: SecondOrderRNN(3, 2.5), "SecondOrderRNN: hidden_size must be an integer >= 1, got 2.5"),
    ],
)
def test_constructor_errors(make, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        make()


def test_parameter_error_is_value_error():
    with pytest.raises(ValueError):
        LSTM(3, 0)
    with pytest.raises(NeurosimError):
        LSTM(3, 0)


# ------------------------------------------------------------------------------------ input checks
@pytest.mark.parametrize("net", all_cells(seed=0), ids=lambda n: type(n).__name__)
def test_bad_input_rank_feature_size_and_values(net):
    with pytest.raises(ParameterError, match=re.escape(f"{type(net).__name__}: input must have 2 or 3 dimensions, got 1 (shape (3,))")):
        net(np.ones(3, np.float32))
    with pytest.raises(ParameterError, match="input must have 2 or 3 dimensions, got 4"):
        net(np.ones((2, 2, 2, 3), np.float32))
    with pytest.raises(ParameterError, match=re.escape("input must have shape (time, batch, 3), got (5, 2, 4)")):
        net(np.ones((5, 2, 4), np.float32))
    with pytest.raises(ParameterError, match=re.escape("input must have shape (time, 3), got (5, 4)")):
        net(np.ones((5, 4), np.float32))
    x = np.ones((5, 2, 3), np.float32)
    x[2, 1, 0] = np.nan
    with pytest.raises(ParameterError, match="input must be finite, got 1 NaN or inf"):
        net(x)
    x[2, 1, 0] = np.inf
    with pytest.raises(ParameterError, match="input must be finite"):
        net(x)
    with pytest.raises(ParameterError, match="at least one time step"):
        net(np.ones((0, 2, 3), np.float32))
    with pytest.raises(ParameterError, match="input must be a numeric array"):
        net([["a", "b", "c"]])


def test_batch_first_named_in_shape_message():
    net = GRU(3, 4, batch_first=True, seed=0)
    with pytest.raises(ParameterError, match=re.escape("GRU: input must have shape (batch, time, 3), got (2, 5, 7)")):
        net(np.ones((2, 5, 7), np.float32))


def test_input_of_another_dtype_is_refused_as_in_pytorch():
    net = RNN(3, 4, seed=0)
    msg = "RNN: input must have the cell's dtype float32, got {}"
    for bad in (np.ones((2, 1, 3)), np.ones((2, 1, 3), complex), np.ones((2, 1, 3), bool), np.ones((2, 1, 3), np.int64)):
        with pytest.raises(ParameterError, match=re.escape(msg.format(bad.dtype.name))):
            net(bad)
    with pytest.raises(ParameterError, match="RNN: h_0 must have the cell's dtype float32, got float64"):
        net(np.ones((2, 1, 3), np.float32), np.zeros((1, 1, 4)))
    # Python numbers and lists are converted; beyond float32's range they become inf and are refused
    assert net([[1.0, 2.0, 3.0]])[0].dtype == np.float32
    with pytest.raises(ParameterError, match="input must be finite"):
        net([[1e300, 0.0, 0.0]])
    with pytest.raises(ParameterError, match="input must be a numeric array"):
        net([[1j, 0.0, 0.0]])


def test_bad_initial_states():
    lstm = LSTM(3, 4, num_layers=2, bidirectional=True, seed=0)
    x = np.ones((5, 2, 3), np.float32)
    good = np.zeros((4, 2, 4), np.float32)
    with pytest.raises(ParameterError, match=re.escape(
            "LSTM: h_0 must have shape (4, 2, 4) (num_layers*num_directions, batch, features), got (2, 2, 4)")):
        lstm(x, (np.zeros((2, 2, 4), np.float32), good))
    with pytest.raises(ParameterError, match=re.escape("LSTM: c_0 must have shape (4, 2, 4) (num_layers*num_directions, batch, features), got (4, 3, 4)")):
        lstm(x, (good, np.zeros((4, 3, 4), np.float32)))
    with pytest.raises(ParameterError, match="LSTM: hx must be a tuple \\(h_0, c_0\\) or None"):
        lstm(x, good)
    bad = good.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ParameterError, match="LSTM: c_0 must be finite"):
        lstm(x, (good, bad))
    gru = GRU(3, 4, seed=0)
    with pytest.raises(ParameterError, match=re.escape("GRU: h_0 must have shape (1, 4) (num_layers*num_directions, features), got (1, 1, 4)")):
        gru(np.ones((5, 3), np.float32), np.zeros((1, 1, 4), np.float32))  # unbatched input needs a 2-D state
    jordan = Jordan(3, 4, 2, seed=0)
    with pytest.raises(ParameterError, match=re.escape("Jordan: y_0 must have shape (1, 5, 2) (num_layers*num_directions, batch, features), got (1, 2, 4)")):
        jordan(np.ones((4, 5, 3), np.float32), np.zeros((1, 2, 4), np.float32))


@pytest.mark.parametrize("net", all_cells(seed=0), ids=lambda n: type(n).__name__)
def test_nan_or_inf_weight_is_refused(net):
    key = next(iter(net.params))
    net.params[key].flat[0] = np.inf
    with pytest.raises(ParameterError, match=re.escape(f"{type(net).__name__}: parameter '{key}' must be finite")):
        net(np.ones((2, 1, 3), np.float32))


def test_inputs_and_states_not_modified(rng):
    for net in all_cells(seed=0, dtype=np.float64):
        x = rng.standard_normal((4, 2, 3))
        x0 = x.copy()
        sizes = net._state_sizes()
        hx = tuple(rng.standard_normal((1, 2, s)) for s in sizes)
        copies = [h.copy() for h in hx]
        net(x, hx if len(hx) > 1 else hx[0])
        assert np.array_equal(x, x0)
        assert all(np.array_equal(a, b) for a, b in zip(hx, copies))


# ----------------------------------------------------------------------------- state_dict and npz
def test_state_dict_names_follow_pytorch():
    assert list(LSTM(3, 4, num_layers=2, bidirectional=True, seed=0).state_dict()) == [
        f"{w}_l{k}{s}" for k in range(2) for s in ("", "_reverse")
        for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    sd = GRU(3, 4, num_layers=2, bidirectional=True, seed=0).state_dict()
    assert sd["weight_ih_l0"].shape == (12, 3) and sd["weight_ih_l1_reverse"].shape == (12, 8)
    assert list(Jordan(3, 4, 2, seed=0).state_dict()) == ["weight_ih_l0", "weight_yh_l0", "bias_h_l0", "weight_hy_l0", "bias_y_l0"]


def test_load_state_dict_errors_name_key_and_shapes():
    net = LSTM(3, 4, seed=0)
    sd = net.state_dict()
    missing = dict(sd)
    del missing["bias_hh_l0"]
    with pytest.raises(ParameterError, match=re.escape("LSTM: state_dict is missing entry 'bias_hh_l0' (expected shape (16,))")):
        net.load_state_dict(missing)
    extra = dict(sd, weight_ih_l1=np.zeros((16, 4)))
    with pytest.raises(ParameterError, match=re.escape("LSTM: state_dict has unexpected entry 'weight_ih_l1' (shape (16, 4))")):
        net.load_state_dict(extra)
    wrong = dict(sd, weight_hh_l0=np.zeros((16, 5)))
    with pytest.raises(ParameterError, match=re.escape("LSTM: state_dict['weight_hh_l0'] must have shape (16, 4), got (16, 5)")):
        net.load_state_dict(wrong)
    nan = dict(sd, bias_ih_l0=np.full(16, np.nan))
    with pytest.raises(ParameterError, match=re.escape("LSTM: state_dict['bias_ih_l0'] must be finite")):
        net.load_state_dict(nan)
    huge = dict(sd, bias_ih_l0=np.full(16, 1e300))  # finite in float64, inf in the cell's float32
    with pytest.raises(ParameterError, match=re.escape("LSTM: state_dict['bias_ih_l0'] must be finite")):
        net.load_state_dict(huge)
    with pytest.raises(ParameterError, match="state_dict must be a mapping"):
        net.load_state_dict([1, 2])
    # a failed load changes nothing
    wrong2 = {k: np.ones_like(v) for k, v in sd.items()}
    wrong2["weight_hh_l0"] = np.zeros((3, 3))
    with pytest.raises(ParameterError):
        net.load_state_dict(wrong2)
    assert all(np.array_equal(net.params[k], sd[k]) for k in sd)


def test_load_state_dict_non_strict():
    net = GRU(3, 4, seed=0)
    before = net.state_dict()
    new = {"weight_ih_l0": np.ones((12, 3)), "foo": np.zeros(2)}
    res = net.load_state_dict(new, strict=False)
    assert res.missing_keys == ["weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert res.unexpected_keys == ["foo"]
    assert np.array_equal(net.params["weight_ih_l0"], np.ones((12, 3), np.float32))
    assert np.array_equal(net.params["weight_hh_l0"], before["weight_hh_l0"])
    assert net.params["weight_ih_l0"].dtype == np.float32


def test_state_dict_is_a_copy_and_params_are_live():
    net = RNN(3, 4, seed=0)
    sd = net.state_dict()
    sd["weight_ih_l0"][:] = 0
    assert np.any(net.params["weight_ih_l0"] != 0)
    net.params["weight_ih_l0"][:] = 0
    net.params["weight_hh_l0"][:] = 0
    out, _ = net(np.ones((3, 1, 3), np.float32))
    b = net.params["bias_ih_l0"] + net.params["bias_hh_l0"]
    np.testing.assert_allclose(out[0, 0], np.tanh(b), rtol=1e-6)


@pytest.mark.parametrize("net", all_cells(seed=0, num_layers=2, bidirectional=True), ids=lambda n: type(n).__name__)
def test_save_load_roundtrip(net, tmp_path, rng):
    path = tmp_path / "w.npz"
    net.save(path)
    other = type(net)(*_args(net), num_layers=2, bidirectional=True, seed=99)
    x = rng.standard_normal((5, 2, 3)).astype(np.float32)
    assert not np.array_equal(_first(other(x)), _first(net(x)))
    other.load(path)
    assert np.array_equal(_first(other(x)), _first(net(x)))
    sd = load_npz_state_dict(path)
    assert list(sd) == list(net.state_dict())
    with np.load(path, allow_pickle=False) as f:  # arrays only
        assert all(f[k].dtype == np.float32 for k in f.files)


def _args(net):
    return (3, 4, 2) if isinstance(net, (Elman, Jordan)) else (3, 4)


def _first(result):
    out = result[0]
    return out[0] if isinstance(out, tuple) else out


def test_load_npz_errors(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    with pytest.raises(ParameterError, match="load_npz_state_dict: cannot read .*bad.npz"):
        load_npz_state_dict(bad)
    npy = tmp_path / "one.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(ParameterError, match="single .npy array"):
        load_npz_state_dict(npy)
    obj = tmp_path / "obj.npz"
    np.savez(obj, weight_ih_l0=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ParameterError, match="entry .weight_ih_l0. must hold real numbers, got dtype object"):
        load_npz_state_dict(obj)
    ok = tmp_path / "ok.npz"
    np.savez(ok, a=np.ones(2))
    with pytest.raises(ParameterError, match="no key of .* starts with prefix 'rnn.'"):
        load_npz_state_dict(ok, prefix="rnn.")
    with pytest.raises(ParameterError, match="missing.npz. does not exist"):
        load_npz_state_dict(tmp_path / "missing.npz")


# ------------------------------------------------------------------------------ seeds and dtypes
def test_same_seed_identical_init_different_seed_differs():
    for a, b, c in zip(all_cells(seed=5, num_layers=2), all_cells(seed=5, num_layers=2), all_cells(seed=6, num_layers=2)):
        sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
        assert all(np.array_equal(sa[k], sb[k]) for k in sa)
        assert not all(np.array_equal(sa[k], sc[k]) for k in sa)
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    assert np.array_equal(GRU(3, 4, seed=g1).params["weight_hh_l0"], GRU(3, 4, seed=g2).params["weight_hh_l0"])


def test_init_ranges_follow_pytorch():
    H = 16
    k = 1 / np.sqrt(H)
    for net in (RNN(8, H, seed=0), LSTM(8, H, seed=0), GRU(8, H, seed=0), Elman(8, H, 3, seed=0)):
        for v in net.params.values():
            assert np.abs(v).max() <= k
            if v.size < 50:
                continue
            assert np.abs(v).max() > 0.8 * k  # actually spread over the range
    u = IndRNN(8, 1000, seed=0, recurrent_max_abs=0.5).params["weight_hh_l0"]
    assert u.min() >= 0 and u.max() == np.float32(0.5)


def test_dtype_handling():
    net = RNN(3, 4, seed=0)
    assert net.dtype == np.float32
    out, h = net(np.ones((2, 1, 3), dtype=np.float32))
    assert out.dtype == np.float32 and h.dtype == np.float32
    net64 = LSTM(3, 4, dtype="float64", seed=0)
    assert net64(np.ones((2, 1, 3)))[0].dtype == np.float64
    assert all(v.dtype == np.float64 for v in net64.params.values())
    assert "dtype=float64" in repr(net64)
    # the seed draws the same values whatever the dtype
    np.testing.assert_array_equal(RNN(3, 4, seed=0).params["weight_hh_l0"],
                                  RNN(3, 4, dtype=np.float64, seed=0).params["weight_hh_l0"].astype(np.float32))


# ------------------------------------------------------------------------------------------ hooks
class Recording:
    """Mixin: record the names given to the matmul hook, and optionally perturb the products."""

    factor = 1.0

    def matmul(self, name, W, X, out=None):
        self.seen = getattr(self, "seen", set()) | {name}
        Y = np.einsum("oi,...i->...o", W, X) * self.factor  # a different implementation, new array
        if out is None:
            return Y
        out[...] = Y
        return out

    def activation(self, kind, x, out=None):
        self.kinds = getattr(self, "kinds", set()) | {kind}
        return super().activation(kind, x, out)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU, Elman, Jordan, IndRNN, SecondOrderRNN])
def test_hooks_see_every_weight_and_replace_the_arithmetic(cls, rng):
    Sub = type("Analog" + cls.__name__, (Recording, cls), {})
    args = (3, 4, 2) if cls in (Elman, Jordan) else (3, 4)
    kw = dict(num_layers=2, bidirectional=True, dtype=np.float64, seed=1)
    ref, sub = cls(*args, **kw), Sub(*args, **kw)
    x = rng.standard_normal((6, 2, 3))
    np.testing.assert_allclose(_first(sub(x)), _first(ref(x)), rtol=0, atol=1e-12)
    weights = {k for k in ref.params if k.startswith("weight")}
    if cls is IndRNN:  # the element-wise recurrent weight goes through the scale hook instead
        weights = {k for k in weights if not k.startswith("weight_hh")}
    assert sub.seen == weights
    assert sub.kinds
    sub.factor = 0.5  # a perturbed "analog" product changes the result: the hook is really used
    assert np.abs(_first(sub(x)) - _first(ref(x))).max() > 1e-3


def test_scale_hook_of_indrnn(rng):
    class Half(IndRNN):
        def scale(self, name, u, X, out=None):
            assert name in ("weight_hh_l0",)
            return np.multiply(0.0 * u, X, out=out)

    a = Half(3, 4, dtype=np.float64, seed=0)
    b = IndRNN(3, 4, dtype=np.float64, seed=0)
    b.params["weight_hh_l0"][:] = 0
    x = rng.standard_normal((5, 2, 3))
    np.testing.assert_array_equal(a(x)[0], b(x)[0])


def test_digital_ops(rng):
    from neurosim.cells.ops import DIGITAL, activation, sigmoid

    W, X = rng.standard_normal((5, 3)), rng.standard_normal((4, 2, 3))
    want = np.einsum("oi,tbi->tbo", W, X)
    np.testing.assert_allclose(DIGITAL.matmul("w", W, X), want, rtol=1e-13, atol=1e-13)
    for out in (np.empty((4, 2, 5)), np.empty((2, 4, 5)).transpose(1, 0, 2)):  # contiguous or not
        assert DIGITAL.matmul("w", W, X, out=out) is out
        np.testing.assert_allclose(out, want, rtol=1e-13, atol=1e-13)
    z = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=0, atol=3e-16)
    z32 = z.astype(np.float32)
    assert np.abs(sigmoid(z32) - 1 / (1 + np.exp(-z))).max() <= 2e-7
    with pytest.raises(ParameterError, match="activation: kind must be one of 'tanh', 'sigmoid', 'relu', 'identity', got 'gelu'"):
        activation("gelu", z)
    y = z.copy()
    assert activation("identity", z, out=y) is y and np.array_equal(y, z)

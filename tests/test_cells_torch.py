"""RNN / LSTM / GRU against PyTorch CPU (torch==2.13.0) on identical weights.

Tolerances (issue 2): max abs difference <= 1e-6 in float32 and <= 1e-12 in float64, for the
outputs and every final state. The weights are PyTorch's own initialisation (torch.manual_seed),
loaded into neurosim through load_state_dict, so neither side's init is trusted.
"""

import numpy as np
import pytest

import neurosim.cells as cells

from conftest import require  # noqa: E402

torch = require("torch")
pytestmark = pytest.mark.torch

TOL = {np.float32: 1e-6, np.float64: 1e-12}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
KINDS = {  # name -> (neurosim class, torch class, extra kwargs)
    "rnn_tanh": (cells.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (cells.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (cells.LSTM, torch.nn.LSTM, {}),
    "gru": (cells.GRU, torch.nn.GRU, {}),
}


def make_pair(kind, dtype, input_size, hidden, torch_seed=0, **kw):
    ours_cls, torch_cls, extra = KINDS[kind]
    torch.manual_seed(torch_seed)
    ref = torch_cls(input_size, hidden, dtype=TORCH_DTYPE[dtype], **extra, **kw)
    ours = ours_cls(input_size, hidden, dtype=dtype, seed=1, **extra, **kw)
    ours.load_state_dict(ref.state_dict())  # torch tensors accepted
    return ours, ref


def initial_state(kind, rng, shape, dtype):
    h0 = rng.uniform(-1, 1, shape).astype(dtype)
    if kind == "lstm":
        return (h0, rng.uniform(-1, 1, shape).astype(dtype))
    return h0


def to_torch(hx):
    if isinstance(hx, tuple):
        return tuple(torch.from_numpy(h) for h in hx)
    return torch.from_numpy(hx)


def max_diff(ours, ref):
    """Max abs difference over (output, state[s])."""
    out, st = ours
    rout, rst = ref
    diffs = [np.abs(out - rout.numpy()).max()]
    if isinstance(st, tuple):
        diffs += [np.abs(a - b.numpy()).max() for a, b in zip(st, rst)]
    else:
        diffs.append(np.abs(st - rst.numpy()).max())
    assert out.shape == tuple(rout.shape)
    return float(max(diffs))


def run_both(ours, ref, x, hx):
    with torch.no_grad():
        r = ref(torch.from_numpy(x), None if hx is None else to_torch(hx))
    return ours(x, hx), r


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind", list(KINDS))
def test_grid_matches_torch(kind, num_layers, bidirectional, batch_first, dtype, rng):
    I, H, B, T = 5, 7, 3, 11
    ours, ref = make_pair(kind, dtype, I, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(dtype)
    D = 2 if bidirectional else 1
    hx = initial_state(kind, rng, (num_layers * D, B, H), dtype)
    got, want = run_both(ours, ref, x, hx)
    assert got[0].dtype == dtype
    assert max_diff(got, want) <= TOL[dtype]
    # default (zero) initial state too
    assert max_diff(*run_both(ours, ref, x, None)) <= TOL[dtype]


ODD = {  # name -> (input, hidden, batch, time)
    "hidden1": (3, 1, 4, 20),
    "batch1": (4, 6, 1, 20),
    "seq1": (4, 6, 3, 1),
    "seq500": (4, 9, 2, 500),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", list(ODD))
@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_odd_sizes_match_torch(kind, size, dtype, rng):
    I, H, B, T = ODD[size]
    for num_layers, bidirectional, batch_first in [(1, False, False), (2, True, True)]:
        ours, ref = make_pair(kind, dtype, I, H, num_layers=num_layers, bidirectional=bidirectional,
                              batch_first=batch_first)
        x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(dtype)
        D = 2 if bidirectional else 1
        hx = initial_state(kind, rng, (num_layers * D, B, H), dtype)
        assert max_diff(*run_both(ours, ref, x, hx)) <= TOL[dtype]


@pytest.mark.parametrize("kind", list(KINDS))
def test_unbatched_and_no_bias_match_torch(kind, rng):
    dtype = np.float64
    ours, ref = make_pair(kind, dtype, 4, 5, num_layers=2, bidirectional=True, bias=False)
    assert not any("bias" in k for k in ours.state_dict())
    x = rng.standard_normal((8, 4))
    hx = initial_state(kind, rng, (4, 5), dtype)
    got, want = run_both(ours, ref, x, hx)
    assert got[0].shape == (8, 10)
    assert max_diff(got, want) <= TOL[dtype]


@pytest.mark.parametrize("kind", list(KINDS))
def test_npz_of_torch_state_dict(kind, rng, tmp_path):
    """A PyTorch state_dict written to .npz (arrays only) loads into a fresh cell, with a prefix."""
    dtype = np.float32
    _, ref = make_pair(kind, dtype, 3, 4, torch_seed=7, num_layers=2, bidirectional=True)
    path = tmp_path / "weights.npz"
    np.savez(path, **{"rnn." + k: v.numpy() for k, v in ref.state_dict().items()}, **{"head.weight": np.ones(2)})
    ours_cls, _, extra = KINDS[kind]
    ours = ours_cls(3, 4, num_layers=2, bidirectional=True, seed=3, **extra)
    ours.load(path, prefix="rnn.")
    x = rng.standard_normal((6, 2, 3)).astype(dtype)
    assert max_diff(*run_both(ours, ref, x, None)) <= TOL[dtype]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pure_step_functions_match_torch_cells(dtype, rng):
    """rnn_step / lstm_step / gru_step against nn.RNNCell / nn.LSTMCell / nn.GRUCell."""
    I, H, B = 5, 6, 4
    td = TORCH_DTYPE[dtype]
    torch.manual_seed(3)
    pairs = [
        (cells.rnn_step, torch.nn.RNNCell(I, H, dtype=td)),
        (cells.lstm_step, torch.nn.LSTMCell(I, H, dtype=td)),
        (cells.gru_step, torch.nn.GRUCell(I, H, dtype=td)),
    ]
    x = rng.standard_normal((B, I)).astype(dtype)
    h = rng.standard_normal((B, H)).astype(dtype)
    c = rng.standard_normal((B, H)).astype(dtype)
    for step, ref in pairs:
        p = {k: v.detach().numpy() for k, v in ref.state_dict().items()}
        p_before = {k: v.copy() for k, v in p.items()}
        h_before, c_before = h.copy(), c.copy()
        with torch.no_grad():
            if step is cells.lstm_step:
                y_t, got = step(p, x, (h, c))
                want = ref(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
                diff = max(np.abs(g - w.numpy()).max() for g, w in zip(got, want))
                assert y_t is got[0]
            else:
                y_t, (got,) = step(p, x, (h,))
                want = ref(torch.from_numpy(x), torch.from_numpy(h))
                diff = np.abs(got - want.numpy()).max()
                assert y_t is got
        assert diff <= TOL[dtype]
        # pure: no argument modified
        assert np.array_equal(h, h_before) and np.array_equal(c, c_before)
        assert all(np.array_equal(p[k], p_before[k]) for k in p)


@pytest.mark.parametrize("kind", list(KINDS))
def test_cell_step_equals_sequence_run(kind, rng):
    """cell.step (the pure function) reproduces the fast runner's states, layer by layer and direction."""
    ours_cls, _, extra = KINDS[kind]
    net = ours_cls(3, 4, num_layers=2, bidirectional=True, dtype=np.float64, seed=5, **extra)
    x = rng.standard_normal((7, 2, 3))
    out, st = net(x)
    layer_in = x
    for layer in range(2):
        outs = []
        for d in range(2):
            state = net.initial_state(2)
            assert len(state) == len(net.state_names)
            p = net.direction_params(layer, d)
            seq = np.zeros((7, 2, 4))
            for t in (range(6, -1, -1) if d else range(7)):
                seq[t], state = net.step(p, layer_in[t], state)
            outs.append(seq)
        layer_in = np.concatenate(outs, axis=-1)
    np.testing.assert_allclose(layer_in, out, rtol=0, atol=1e-13)


class _Hooked:
    """Overriding a hook switches RNN/LSTM/GRU from the fused digital runner to the generic one."""

    def matmul(self, name, W, X, out=None):
        return super().matmul(name, W, X, out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", list(KINDS))
def test_generic_runner_matches_torch_too(kind, dtype, rng):
    ours_cls, torch_cls, extra = KINDS[kind]
    hooked_cls = type("Hooked" + ours_cls.__name__, (_Hooked, ours_cls), {})
    for bias, B, T in [(True, 1, 40), (False, 3, 7)]:
        torch.manual_seed(B)
        ref = torch_cls(4, 5, num_layers=2, bidirectional=True, bias=bias, dtype=TORCH_DTYPE[dtype], **extra)
        ours = hooked_cls(4, 5, num_layers=2, bidirectional=True, bias=bias, dtype=dtype, **extra)
        assert not ours._hooks_are_digital()
        ours.load_state_dict(ref.state_dict())
        x = rng.standard_normal((T, B, 4)).astype(dtype)
        hx = initial_state(kind, rng, (4, B, 5), dtype)
        assert max_diff(*run_both(ours, ref, x, hx)) <= TOL[dtype]


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("num_layers, bidirectional, batch_first", [(1, False, False), (2, True, True)])
def test_lstm_with_projection_matches_torch(num_layers, bidirectional, batch_first, dtype, rng):
    ours, ref = make_pair("lstm", dtype, 4, 6, num_layers=num_layers, bidirectional=bidirectional,
                          batch_first=batch_first, proj_size=3)
    assert list(ours.state_dict()) == list(ref.state_dict())
    D = 2 if bidirectional else 1
    B, T = 2, 9
    x = rng.standard_normal((B, T, 4) if batch_first else (T, B, 4)).astype(dtype)
    hx = (rng.uniform(-1, 1, (num_layers * D, B, 3)).astype(dtype), rng.uniform(-1, 1, (num_layers * D, B, 6)).astype(dtype))
    got, want = run_both(ours, ref, x, hx)
    assert got[0].shape[-1] == 3 * D and got[1][0].shape[-1] == 3 and got[1][1].shape[-1] == 6
    assert max_diff(got, want) <= TOL[dtype]
    # the pure step function with the projection
    p = ours.direction_params(0, 0)
    with torch.no_grad():
        cell = torch.nn.LSTM(4, 6, proj_size=3, dtype=TORCH_DTYPE[dtype])
        cell.load_state_dict({g + "_l0": torch.from_numpy(a) for g, a in p.items()})
        x1 = np.ascontiguousarray(x[:, 0] if batch_first else x[0])
        _, (h1, c1) = cells.lstm_step(p, x1, (hx[0][0], hx[1][0]))
        _, (th, tc) = cell(torch.from_numpy(x1[None]), (torch.from_numpy(hx[0][:1]), torch.from_numpy(hx[1][:1])))
    assert max(np.abs(h1 - th[0].numpy()).max(), np.abs(c1 - tc[0].numpy()).max()) <= TOL[dtype]

"""BPTT gradients of every cell: against central finite differences (float64) and torch autograd."""

import numpy as np
import pytest

from conftest import require
from neurosim.cells import GRU, LSTM, RNN, Elman, IndRNN, Jordan, SecondOrderRNN
from neurosim.errors import NeurosimError, ParameterError
from neurosim.train import backward, forward, truncated_bptt

CELLS = {
    "rnn_tanh": lambda **k: RNN(3, 4, **k),
    "rnn_relu": lambda **k: RNN(3, 4, nonlinearity="relu", **k),
    "lstm": lambda **k: LSTM(3, 4, **k),
    "lstm_proj": lambda **k: LSTM(3, 5, proj_size=2, **k),
    "gru": lambda **k: GRU(3, 4, **k),
    "elman": lambda **k: Elman(3, 4, 2, output_activation="tanh", **k),
    "jordan": lambda **k: Jordan(3, 4, 2, output_activation="sigmoid", **k),
    "indrnn": lambda **k: IndRNN(3, 4, nonlinearity="tanh", recurrent_max_abs=0.7, **k),
    "second_order": lambda **k: SecondOrderRNN(3, 4, **k),
}


def _loss(cell, x, hx, C):
    """A scalar loss with a random linear weighting of every output and final state."""
    tr = forward(cell, x, hx)
    L = float((tr.output * C[0]).sum()) + sum(float((s * c).sum()) for s, c in zip(tr.final_states, C[1:]))
    return L, tr


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("layers,bidir", [(1, False), (2, True)])
def test_gradient_matches_finite_differences(name, layers, bidir):
    cell = CELLS[name](num_layers=layers, bidirectional=bidir, dtype=np.float64, seed=3)
    r = np.random.default_rng(7)
    if name == "indrnn":  # recurrent weights inside and beyond the bound 0.7, none on its kink
        for k in cell.params:
            if k.startswith("weight_hh"):
                u = r.uniform(0.0, 0.6, size=cell.params[k].shape) * r.choice([-1, 1], size=cell.params[k].shape)
                u[::3] = np.sign(u[::3]) * 0.9
                cell.params[k][...] = u
    T, B = 5, 2
    x = r.normal(size=(T, B, 3))
    hx = tuple(r.normal(size=s.shape) * 0.5 for s in forward(cell, x).final_states)
    tr = forward(cell, x, hx)
    C = [r.normal(size=tr.output.shape)] + [r.normal(size=s.shape) for s in tr.final_states]
    grads, dx, dhx = backward(tr, C[0], tuple(C[1:]))
    eps = 1e-6
    worst = 0.0
    for key, P in cell.params.items():
        flat = P.reshape(-1)
        idx = r.choice(flat.size, size=min(flat.size, 12), replace=False)
        for i in idx:
            old = flat[i]
            flat[i] = old + eps
            lp, _ = _loss(cell, x, hx, C)
            flat[i] = old - eps
            lm, _ = _loss(cell, x, hx, C)
            flat[i] = old
            fd = (lp - lm) / (2 * eps)
            g = grads[key].reshape(-1)[i]
            worst = max(worst, abs(g - fd) / max(1.0, abs(fd)))
    # the input and the initial states too
    for arr, garr in [(x, dx)] + list(zip(hx, dhx)):
        flat = arr.reshape(-1)
        for i in r.choice(flat.size, size=min(6, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + eps
            lp, _ = _loss(cell, x, hx, C)
            flat[i] = old - eps
            lm, _ = _loss(cell, x, hx, C)
            flat[i] = old
            fd = (lp - lm) / (2 * eps)
            worst = max(worst, abs(garr.reshape(-1)[i] - fd) / max(1.0, abs(fd)))
    assert worst <= 1e-6, worst


@pytest.mark.parametrize("name", sorted(CELLS))
def test_forward_is_the_cells_own_call(name):
    cell = CELLS[name](num_layers=2, bidirectional=True, dtype=np.float32, seed=1)
    x = np.random.default_rng(0).normal(size=(6, 3, 3)).astype(np.float32)
    tr = forward(cell, x)
    ref = cell(x)
    out = ref[0][0] if isinstance(ref[0], tuple) else ref[0]
    np.testing.assert_allclose(tr.output, out, rtol=0, atol=2e-6)
    assert tr.output.dtype == np.float32


def _torch_module(torch, kind, cell, batch_first):
    kw = dict(num_layers=cell.num_layers, bidirectional=cell.bidirectional, batch_first=batch_first,
              dtype=torch.float64 if cell.dtype == np.float64 else torch.float32)
    if kind == "RNN":
        m = torch.nn.RNN(cell.input_size, cell.hidden_size, nonlinearity=cell.nonlinearity, **kw)
    elif kind == "LSTM":
        m = torch.nn.LSTM(cell.input_size, cell.hidden_size, proj_size=cell.proj_size, **kw)
    else:
        m = torch.nn.GRU(cell.input_size, cell.hidden_size, **kw)
    m.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in cell.params.items()})
    return m


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidir", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_matches_torch_autograd(kind, layers, bidir, batch_first, dtype):
    torch = require("torch")
    cls = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}[kind]
    cell = cls(5, 6, num_layers=layers, bidirectional=bidir, batch_first=batch_first, dtype=dtype, seed=4)
    r = np.random.default_rng(11)
    T, B = 7, 3
    x = r.normal(size=(B, T, 5) if batch_first else (T, B, 5)).astype(dtype)
    tr = forward(cell, x)
    C = r.normal(size=tr.output.shape).astype(dtype)  # time-major cotangent
    grads, dx, _ = backward(tr, C)
    m = _torch_module(torch, kind, cell, batch_first)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    out = m(xt)[0]
    Ct = torch.from_numpy(C.transpose(1, 0, 2).copy() if batch_first else C)
    (out * Ct).sum().backward()
    tol = 1e-5 if dtype == np.float32 else 1e-10
    for k, p in m.named_parameters():
        ref = p.grad.numpy()
        err = np.max(np.abs(grads[k] - ref)) / max(1.0, np.max(np.abs(ref)))
        assert err <= tol, (k, err)
    dx_ref = xt.grad.numpy()
    if batch_first:
        dx_ref = dx_ref.transpose(1, 0, 2)
    assert np.max(np.abs(dx - dx_ref)) / max(1.0, np.max(np.abs(dx_ref))) <= tol


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_truncated_bptt_matches_torch_with_detached_states(kind):
    torch = require("torch")
    cls = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}[kind]
    cell = cls(2, 5, num_layers=2, dtype=np.float64, seed=2)
    r = np.random.default_rng(5)
    T, B, k = 13, 2, 4
    x = r.normal(size=(T, B, 2))
    target = r.normal(size=(T, B, 5))
    ours = list(truncated_bptt(cell, x, lambda y, a, b: (float(((y - target[a:b]) ** 2).sum()),
                                                          2 * (y - target[a:b])), k1=k))
    m = _torch_module(torch, kind, cell, False)
    hx = None
    for t0, t1, loss, grads in ours:
        m.zero_grad()
        out, hx = m(torch.from_numpy(x[t0:t1]), hx)
        L = ((out - torch.from_numpy(target[t0:t1])) ** 2).sum()
        L.backward()
        hx = tuple(h.detach() for h in hx) if isinstance(hx, tuple) else hx.detach()
        assert abs(L.item() - loss) <= 1e-10 * max(1, abs(loss))
        for name, p in m.named_parameters():
            np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=0, atol=1e-10 * max(1, np.abs(p.grad.numpy()).max()))


def test_truncated_k2_longer_than_k1_equals_windowed_bptt():
    """BPTT(k1, k2): block [t0, t1) backpropagated through [t1 - k2, t1) equals a full BPTT on that
    window started from the state at t1 - k2 with the loss on the last k1 steps."""
    cell = RNN(2, 3, dtype=np.float64, seed=0)
    r = np.random.default_rng(1)
    x = r.normal(size=(12, 2, 2))
    blocks = list(truncated_bptt(cell, x, lambda y, a, b: (float(y.sum()), np.ones_like(y)), k1=3, k2=5))
    assert [b[:2] for b in blocks] == [(0, 3), (3, 6), (6, 9), (9, 12)]
    full = forward(cell, x)
    t0, t1 = 6, 9
    h_lo = full.steps[(0, 0)][t1 - 5 - 1][2]  # state after step 3 = before step 4
    tr = forward(cell, x[4:9], (h_lo[0][None],))
    dy = np.zeros_like(tr.output)
    dy[2:] = 1
    g, _, _ = backward(tr, dy)
    for k in g:
        np.testing.assert_allclose(blocks[2][3][k], g[k], rtol=1e-12, atol=1e-12)
    # and the truncation matters: the full-depth gradient of the same block differs
    dy_full = np.zeros_like(full.output)
    dy_full[6:9] = 1
    g_full, _, _ = backward(full, dy_full)
    assert np.max(np.abs(g_full["weight_hh_l0"] - g["weight_hh_l0"])) > 1e-4


def test_bad_inputs():
    cell = RNN(2, 3, seed=0)
    with pytest.raises(ParameterError, match="dtype"):
        forward(cell, np.zeros((3, 1, 2)))
    tr = forward(cell, np.zeros((3, 1, 2), np.float32))
    with pytest.raises(ParameterError, match="d_output"):
        backward(tr, np.zeros((3, 1, 4), np.float32))
    with pytest.raises(ParameterError, match="k1"):
        next(truncated_bptt(cell, np.zeros((3, 1, 2), np.float32), None, k1=0))
    with pytest.raises(ParameterError, match="k2"):
        next(truncated_bptt(cell, np.zeros((3, 1, 2), np.float32), None, k1=3, k2=2))


def test_adjoint_refuses_a_changed_step_function():
    class Odd(RNN):
        def _step(self, params, x_t, state, ops):
            y, s = super()._step(params, x_t, state, ops)
            return ops.activation("tanh", y), s

    cell = Odd(2, 3, seed=0)
    tr = forward(cell, np.zeros((2, 1, 2), np.float32))
    with pytest.raises(NeurosimError, match="adjoint"):
        backward(tr, np.ones_like(tr.output))

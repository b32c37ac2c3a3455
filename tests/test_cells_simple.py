"""Elman, Jordan, IndRNN and SecondOrderRNN against plain per-step loops written here from the equations.

The reference runs in float64 with explicit Python loops over time, layers and directions (and, for
the second-order cell, an einsum over i, j, k), on the parameters taken from the cell's state_dict.
Tolerances: 1e-12 for float64 cells; 1e-5 for float32 cells (float32 rounding, about 1e-7 per
operation, accumulated over the steps, against the float64 reference).
"""

import numpy as np
import pytest

from neurosim.cells import Elman, IndRNN, Jordan, SecondOrderRNN, elman_step, indrnn_step, jordan_step, second_order_step

ACT = {
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "identity": lambda z: z,
}
TOL = {np.float32: 1e-5, np.float64: 1e-12}


def P(sd, name, layer, d):
    key = f"{name}_l{layer}" + ("_reverse" if d else "")
    return sd[key].astype(np.float64) if key in sd else None


def b_or_zero(b, n):
    return np.zeros(n) if b is None else b


def reference(net, x, s0, step_fn):
    """Generic stacked/bidirectional loop: x (T, B, I) float64, s0 (L*D, B, S) float64.

    step_fn(sd, layer, d, x_t (B, I), s (B, S)) -> (layer output (B, F), new state (B, S), extra (B, E)).
    Returns (last layer outputs (T, B, D*F), extras (T, B, D*E), final states (L*D, B, S)).
    """
    sd = net.state_dict()
    T = x.shape[0]
    D = 2 if net.bidirectional else 1
    finals = np.zeros_like(s0)
    layer_in = x
    for layer in range(net.num_layers):
        outs, extras = [], []
        for d in range(D):
            s = s0[layer * D + d]
            o_seq, e_seq = [None] * T, [None] * T
            for t in (reversed(range(T)) if d else range(T)):
                o, s, e = step_fn(sd, layer, d, layer_in[t], s)
                o_seq[t], e_seq[t] = o, e
            finals[layer * D + d] = s
            outs.append(np.stack(o_seq))
            extras.append(np.stack(e_seq))
        layer_in = np.concatenate(outs, axis=-1)
        extra = np.concatenate(extras, axis=-1)
    return layer_in, extra, finals


def elman_ref(net):
    sh, sy = ACT[net.hidden_activation], ACT[net.output_activation]

    def step(sd, layer, d, x_t, h):
        W_h, U_h, W_y = P(sd, "weight_ih", layer, d), P(sd, "weight_hh", layer, d), P(sd, "weight_hy", layer, d)
        b_h = b_or_zero(P(sd, "bias_h", layer, d), net.hidden_size)
        b_y = b_or_zero(P(sd, "bias_y", layer, d), net.output_size)
        h_new = np.empty_like(h)
        for b in range(x_t.shape[0]):  # per batch entry, matrix-vector products as written
            h_new[b] = sh(W_h @ x_t[b] + U_h @ h[b] + b_h)
        y = np.stack([sy(W_y @ h_new[b] + b_y) for b in range(x_t.shape[0])])
        return y, h_new, h_new

    return step


def jordan_ref(net):
    sh, sy = ACT[net.hidden_activation], ACT[net.output_activation]

    def step(sd, layer, d, x_t, y_prev):
        W_h, U_h, W_y = P(sd, "weight_ih", layer, d), P(sd, "weight_yh", layer, d), P(sd, "weight_hy", layer, d)
        b_h = b_or_zero(P(sd, "bias_h", layer, d), net.hidden_size)
        b_y = b_or_zero(P(sd, "bias_y", layer, d), net.output_size)
        h = np.stack([sh(W_h @ x_t[b] + U_h @ y_prev[b] + b_h) for b in range(x_t.shape[0])])
        y = np.stack([sy(W_y @ h[b] + b_y) for b in range(x_t.shape[0])])
        return y, y, h

    return step


def indrnn_ref(net):
    s = ACT[net.nonlinearity]

    def step(sd, layer, d, x_t, h):
        W, u = P(sd, "weight_ih", layer, d), P(sd, "weight_hh", layer, d)
        if net.recurrent_max_abs is not None:
            u = np.minimum(np.maximum(u, -net.recurrent_max_abs), net.recurrent_max_abs)
        b = b_or_zero(P(sd, "bias", layer, d), net.hidden_size)
        h_new = np.stack([s(W @ x_t[i] + u * h[i] + b) for i in range(x_t.shape[0])])
        return h_new, h_new, h_new

    return step


def second_order_ref(net):
    s = ACT[net.nonlinearity]

    def step(sd, layer, d, x_t, h):
        W = P(sd, "weight", layer, d)
        b = b_or_zero(P(sd, "bias", layer, d), net.hidden_size)
        h_new = s(np.einsum("ijk,bj,bk->bi", W, h, x_t) + b)
        return h_new, h_new, h_new

    return step


def run_ref(net, x, hx, step_fn, state_size):
    x64 = np.asarray(x, np.float64)
    batched = x64.ndim == 3
    if not batched:
        x64 = x64[:, None, :]
    elif net.batch_first:
        x64 = x64.transpose(1, 0, 2)
    LD = net.num_layers * (2 if net.bidirectional else 1)
    if hx is None:
        s0 = np.zeros((LD, x64.shape[1], state_size))
    else:
        s0 = np.asarray(hx, np.float64)
        s0 = s0 if batched else s0[:, None, :]
    out, extra, fin = reference(net, x64, s0, step_fn)
    if not batched:
        return out[:, 0], extra[:, 0], fin[:, 0]
    if net.batch_first:
        return out.transpose(1, 0, 2), extra.transpose(1, 0, 2), fin
    return out, extra, fin


CONFIGS = [  # (num_layers, bidirectional, batch_first, bias)
    (1, False, False, True),
    (2, True, False, True),
    (2, False, True, False),
    (1, True, True, True),
]


def assert_close(a, b, dtype):
    assert a.shape == b.shape
    assert a.dtype == dtype
    assert np.abs(a - b).max() <= TOL[dtype]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("acts", [("tanh", "identity"), ("sigmoid", "relu"), ("relu", "sigmoid")])
def test_elman_and_jordan_match_loop(acts, config, dtype, rng):
    L, bi, bf, bias = config
    I, H, O, B, T = 3, 5, 2, 4, 9
    for cls, ref, S in [(Elman, elman_ref, H), (Jordan, jordan_ref, O)]:
        net = cls(I, H, O, num_layers=L, hidden_activation=acts[0], output_activation=acts[1], bias=bias,
                  batch_first=bf, bidirectional=bi, dtype=dtype, seed=2)
        x = rng.standard_normal((B, T, I) if bf else (T, B, I)).astype(dtype)
        hx = rng.uniform(-1, 1, (L * (2 if bi else 1), B, S)).astype(dtype)
        (y, h), s_n = net(x, hx)
        y_ref, h_ref, s_ref = run_ref(net, x, hx, ref(net), S)
        assert_close(y, y_ref, dtype)
        assert_close(h, h_ref, dtype)
        assert_close(s_n, s_ref, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("nonlinearity", ["relu", "tanh"])
def test_indrnn_matches_loop(nonlinearity, config, dtype, rng):
    L, bi, bf, bias = config
    for bound in (None, 0.5):
        net = IndRNN(3, 6, num_layers=L, nonlinearity=nonlinearity, bias=bias, batch_first=bf, bidirectional=bi,
                     recurrent_max_abs=bound, dtype=dtype, seed=4)
        if bound is not None:  # put some |u| past the bound so that the clip matters
            sd = net.state_dict()
            sd["weight_hh_l0"][:3] = [0.9, -1.7, 0.2]
            net.load_state_dict(sd)
        x = rng.standard_normal((2, 30, 3) if bf else (30, 2, 3)).astype(dtype)
        out, h_n = net(x)
        o_ref, _, s_ref = run_ref(net, x, None, indrnn_ref(net), 6)
        assert_close(out, o_ref, dtype)
        assert_close(h_n, s_ref, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("nonlinearity", ["sigmoid", "tanh"])
def test_second_order_matches_einsum_loop(nonlinearity, config, dtype, rng):
    L, bi, bf, bias = config
    net = SecondOrderRNN(3, 4, num_layers=L, nonlinearity=nonlinearity, bias=bias, batch_first=bf, bidirectional=bi,
                         dtype=dtype, seed=6)
    x = rng.standard_normal((2, 12, 3) if bf else (12, 2, 3)).astype(dtype)
    hx = rng.uniform(-1, 1, (L * (2 if bi else 1), 2, 4)).astype(dtype)
    out, h_n = net(x, hx)
    o_ref, _, s_ref = run_ref(net, x, hx, second_order_ref(net), 4)
    assert_close(out, o_ref, dtype)
    assert_close(h_n, s_ref, dtype)


def test_unbatched_simple_cells(rng):
    x = rng.standard_normal((6, 3))
    net = Jordan(3, 4, 2, bidirectional=True, dtype=np.float64, seed=1)
    (y, h), y_n = net(x, rng.standard_normal((2, 2)))
    assert y.shape == (6, 4) and h.shape == (6, 8) and y_n.shape == (2, 2)
    for cls in (IndRNN, SecondOrderRNN):
        out, h_n = cls(3, 4, num_layers=2, dtype=np.float64, seed=1)(x)
        assert out.shape == (6, 4) and h_n.shape == (2, 4)


def test_pure_step_functions_match_loop_and_are_pure(rng):
    x = rng.standard_normal((3, 4))
    cases = [
        (Elman(4, 5, 2, dtype=np.float64, seed=0), elman_step, elman_ref, 5, True),
        (Jordan(4, 5, 2, dtype=np.float64, seed=0), jordan_step, jordan_ref, 2, True),
        (IndRNN(4, 5, dtype=np.float64, recurrent_max_abs=0.3, seed=0), indrnn_step, indrnn_ref, 5, False),
        (SecondOrderRNN(4, 5, dtype=np.float64, seed=0), second_order_step, second_order_ref, 5, False),
    ]
    for net, step, ref, S, two_outputs in cases:
        s = rng.standard_normal((3, S))
        s_copy = s.copy()
        p = net.direction_params(0, 0)
        if step is elman_step or step is jordan_step:
            y_t, state = step(p, x, (s,), hidden_activation=net.hidden_activation, output_activation=net.output_activation)
        elif step is indrnn_step:
            y_t, state = step(p, x, (s,), nonlinearity=net.nonlinearity, recurrent_max_abs=net.recurrent_max_abs)
        else:
            y_t, state = step(p, x, (s,), nonlinearity=net.nonlinearity)
        o, new, e = ref(net)(net.state_dict(), 0, 0, x, s)
        if two_outputs:  # y_t = (y_t, h_t); the state is (h_t,) for Elman, (y_t,) for Jordan
            np.testing.assert_allclose(y_t[0], o, rtol=0, atol=1e-13)
            np.testing.assert_allclose(y_t[1], e, rtol=0, atol=1e-13)
            np.testing.assert_allclose(state[0], new, rtol=0, atol=1e-13)
        else:
            np.testing.assert_allclose(y_t, new, rtol=0, atol=1e-13)
            np.testing.assert_array_equal(state[0], y_t)
        assert np.array_equal(s, s_copy)
        # the cell's own step is the same function, with the same signature for every cell
        y2, state2 = net.step(p, x, (s,))
        np.testing.assert_array_equal(state2[0], state[0])

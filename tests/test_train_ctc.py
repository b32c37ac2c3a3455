"""CTC loss and gradient against torch.nn.CTCLoss; decoding."""

import itertools

import numpy as np
import pytest

from conftest import require
from neurosim.errors import ParameterError
from neurosim.train.ctc import ctc_beam_search, ctc_greedy_decode, ctc_loss


def _torch_ctc(torch, z, targets, il, tl, blank, reduction):
    zt = torch.from_numpy(z.copy()).requires_grad_(True)
    lp = torch.log_softmax(zt, dim=-1)
    loss = torch.nn.functional.ctc_loss(lp, torch.from_numpy(targets), torch.from_numpy(il), torch.from_numpy(tl),
                                        blank=blank, reduction=reduction)
    loss.sum().backward()
    return loss.detach().numpy(), zt.grad.numpy()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ctc_matches_torch(seed, reduction):
    torch = require("torch")
    r = np.random.default_rng(seed)
    T, B, C, S = 12, 5, 4, 5
    blank = int(r.integers(0, C))
    labels = [c for c in range(C) if c != blank]
    z = r.normal(size=(T, B, C)) * 2
    tl = r.integers(0, S + 1, size=B)
    tl[0] = 0  # an empty target
    targets = r.choice(labels, size=(B, S))
    targets[1, :3] = targets[1, 0]  # repeated labels
    tl[1] = max(tl[1], 3)
    il = r.integers(2 * S + 1, T + 1, size=B)
    loss, grad = ctc_loss(z, targets, il, tl, blank=blank, reduction=reduction)
    ref_loss, ref_grad = _torch_ctc(torch, z, targets, il, tl, blank, reduction)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-6, atol=1e-9)
    if reduction == "none":  # torch backpropagates sum(losses)
        return
    np.testing.assert_allclose(grad, ref_grad, rtol=0, atol=1e-6 * max(1, np.abs(ref_grad).max()))


def test_ctc_probability_by_enumeration():
    """p(l|x) = sum over every alignment that collapses to l (brute force, T=5, 3 classes)."""
    r = np.random.default_rng(0)
    T, C = 5, 3
    z = r.normal(size=(T, 1, C))
    y = np.exp(z[:, 0]) / np.exp(z[:, 0]).sum(-1, keepdims=True)
    target = [1, 1, 2]
    total = 0.0
    for path in itertools.product(range(C), repeat=T):
        col = [c for k, c in enumerate(path) if (k == 0 or c != path[k - 1]) and c != 0]
        if col == target:
            total += np.prod(y[np.arange(T), path])
    loss, _ = ctc_loss(z, np.array([target]), reduction="sum")
    assert np.exp(-loss) == pytest.approx(total, rel=1e-12)


def test_ctc_gradient_finite_differences():
    r = np.random.default_rng(1)
    z = r.normal(size=(6, 2, 3))
    tg = np.array([[1, 2], [2, 2]])
    loss, g = ctc_loss(z, tg, np.array([6, 5]), np.array([2, 2]))
    eps = 1e-6
    for idx in [(0, 0, 0), (3, 1, 2), (5, 0, 1), (2, 1, 1)]:
        zp, zm = z.copy(), z.copy()
        zp[idx] += eps
        zm[idx] -= eps
        fd = (ctc_loss(zp, tg, np.array([6, 5]), np.array([2, 2]))[0] - ctc_loss(zm, tg, np.array([6, 5]), np.array([2, 2]))[0]) / (2 * eps)
        assert abs(fd - g[idx]) <= 1e-8
    assert np.all(g[5, 1] == 0)  # beyond input length 5


def test_ctc_bad_input():
    z = np.zeros((4, 1, 3))
    with pytest.raises(ParameterError, match="needs at least 6 input steps"):
        ctc_loss(z, np.array([[1, 1, 2, 2]]))  # 4 labels + 2 blanks between repeats > 4 steps
    with pytest.raises(ParameterError, match="blank"):
        ctc_loss(z, np.array([[0]]))
    with pytest.raises(ParameterError, match="input_lengths"):
        ctc_loss(z, np.array([[1]]), input_lengths=np.array([5]))
    with pytest.raises(ParameterError, match="width"):
        ctc_beam_search(z, width=0)


@pytest.mark.parametrize("seed", range(20))
def test_beam_width_one_is_greedy(seed):
    r = np.random.default_rng(seed)
    z = r.normal(size=(15, 3, 4)) * 2
    il = np.array([15, 9, 4])
    assert ctc_beam_search(z, width=1, input_lengths=il, merge="max") == ctc_greedy_decode(z, il)


def test_wide_beam_finds_the_most_probable_labelling():
    """With a beam wider than the number of prefixes, sum-merging finds argmax_l p(l|x) (brute force)."""
    r = np.random.default_rng(3)
    T, C = 5, 3
    for _ in range(5):
        z = r.normal(size=(T, 1, C)) * 1.5
        y = np.exp(z[:, 0]) / np.exp(z[:, 0]).sum(-1, keepdims=True)
        probs = {}
        for path in itertools.product(range(C), repeat=T):
            col = tuple(c for k, c in enumerate(path) if (k == 0 or c != path[k - 1]) and c != 0)
            probs[col] = probs.get(col, 0.0) + np.prod(y[np.arange(T), path])
        best = max(probs, key=probs.get)
        assert tuple(ctc_beam_search(z, width=1000)[0]) == best

"""Losses, optimizers, clipping and the training loop (checkpoint-resume, early stopping, bad input)."""

import numpy as np
import pytest

from conftest import require
from neurosim.cells import GRU, LSTM, Elman
from neurosim.errors import NeurosimError, ParameterError
from neurosim.tasks import adding_problem, sine_generation
from neurosim.train import (SGD, Adam, RMSprop, SequenceModel, TrainingError, clip_grad_norm, cross_entropy_loss,
                            evaluate, fit, mse_loss)


def test_losses_match_torch():
    torch = require("torch")
    r = np.random.default_rng(0)
    pred, target = r.normal(size=(6, 3, 2)), r.normal(size=(6, 3, 2))
    mask = r.random((6, 3)) < 0.6
    mask[0, 0] = True
    for last, m in ((False, None), (False, mask), (True, None)):
        loss, d = mse_loss(pred, target, m, last)
        sel = np.ones((6, 3), bool) if m is None else m.copy()
        if last:
            sel[:-1] = False
        p = torch.from_numpy(pred).requires_grad_(True)
        ref = torch.nn.functional.mse_loss(p[torch.from_numpy(sel)], torch.from_numpy(target)[torch.from_numpy(sel)])
        ref.backward()
        assert abs(loss - ref.item()) <= 1e-12
        np.testing.assert_allclose(d, p.grad.numpy(), atol=1e-14)
    z = r.normal(size=(6, 3, 4))
    labels = r.integers(0, 4, size=(6, 3))
    loss, d = cross_entropy_loss(z, labels, mask)
    zt = torch.from_numpy(z).requires_grad_(True)
    sel = torch.from_numpy(mask)
    ref = torch.nn.functional.cross_entropy(zt[sel], torch.from_numpy(labels)[sel])
    ref.backward()
    assert abs(loss - ref.item()) <= 1e-12
    np.testing.assert_allclose(d, zt.grad.numpy(), atol=1e-14)
    onehot = np.eye(4)[labels]
    assert cross_entropy_loss(z, onehot, mask)[0] == pytest.approx(loss, abs=1e-12)


def test_loss_bad_shapes():
    with pytest.raises(ParameterError, match="same shape"):
        mse_loss(np.zeros((3, 2, 1)), np.zeros((3, 2, 2)))
    with pytest.raises(ParameterError, match="mask"):
        mse_loss(np.zeros((3, 2, 1)), np.zeros((3, 2, 1)), mask=np.ones((2, 2), bool))
    with pytest.raises(ParameterError, match="labels"):
        cross_entropy_loss(np.zeros((3, 2, 4)), np.full((3, 2), 4))
    with pytest.raises(ParameterError, match="target"):
        cross_entropy_loss(np.zeros((3, 2, 4)), np.zeros((3, 3)))


@pytest.mark.parametrize("name", ["sgd", "sgd_momentum", "sgd_nesterov", "rmsprop", "adam"])
def test_optimizers_match_torch(name):
    torch = require("torch")
    r = np.random.default_rng(1)
    p0 = {"a": r.normal(size=(3, 4)), "b": r.normal(size=(5,))}
    grads = [{k: r.normal(size=v.shape) for k, v in p0.items()} for _ in range(6)]
    ours = {k: v.copy() for k, v in p0.items()}
    tp = [torch.tensor(p0[k].copy(), requires_grad=True) for k in ("a", "b")]
    make = {
        "sgd": (lambda p: SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        "sgd_momentum": (lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        "sgd_nesterov": (lambda p: SGD(p, lr=0.1, momentum=0.8, nesterov=True),
                         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True)),
        "rmsprop": (lambda p: RMSprop(p, lr=0.01), lambda p: torch.optim.RMSprop(p, lr=0.01)),
        "adam": (lambda p: Adam(p, lr=0.05), lambda p: torch.optim.Adam(p, lr=0.05)),
    }[name]
    opt, topt = make[0](ours), make[1](tp)
    for g in grads:
        opt.step({k: v.copy() for k, v in g.items()})
        for t, k in zip(tp, ("a", "b")):
            t.grad = torch.from_numpy(g[k].copy())
        topt.step()
    for t, k in zip(tp, ("a", "b")):
        np.testing.assert_allclose(ours[k], t.detach().numpy(), rtol=0, atol=1e-12)


def test_clip_matches_torch():
    torch = require("torch")
    r = np.random.default_rng(2)
    g = {"a": r.normal(size=(3, 3)), "b": r.normal(size=4)}
    ts = [torch.zeros(3, 3, dtype=torch.float64, requires_grad=True), torch.zeros(4, dtype=torch.float64, requires_grad=True)]
    for t, k in zip(ts, "ab"):
        t.grad = torch.from_numpy(g[k].copy())
    ref = torch.nn.utils.clip_grad_norm_(ts, 0.5).item()
    total = clip_grad_norm(g, 0.5)
    assert total == pytest.approx(ref, rel=1e-12)
    for t, k in zip(ts, "ab"):
        np.testing.assert_allclose(g[k], t.grad.numpy(), atol=1e-14)


def test_bad_learning_rate_and_nan_gradient():
    p = {"w": np.ones(3)}
    for lr in (0, -1.0, float("nan")):
        with pytest.raises(ParameterError, match="lr"):
            Adam(p, lr=lr)
        with pytest.raises(ParameterError, match="lr"):
            SGD(p, lr=lr)
    opt = SGD(p, lr=0.1)
    with pytest.raises(TrainingError, match="'w'") as info:
        opt.step({"w": np.array([1.0, np.nan, 0.0])})
    assert isinstance(info.value, NeurosimError)
    np.testing.assert_array_equal(p["w"], 1.0)  # untouched
    with pytest.raises(TrainingError):
        clip_grad_norm({"w": np.array([np.inf])}, 1.0)


def test_fit_diverging_is_refused_before_weights_turn_nan():
    task = sine_generation(n_steps=40, batch_size=2, washout=2, seed=0)
    model = SequenceModel(Elman(1, 4, 1, hidden_activation="relu", dtype=np.float64, seed=0))
    for v in model.params.values():
        v *= 1e154  # the next loss / gradient overflows
    with pytest.raises(TrainingError):
        fit(model, task, epochs=1, optimizer=SGD(model.params, lr=1.0))
    assert all(np.isfinite(v).all() for v in model.params.values())


def test_fit_reduces_the_loss_and_checkpoint_resume_is_bit_identical(tmp_path):
    train = adding_problem(20, 64, seed=1)
    valid = adding_problem(20, 32, seed=2)

    def run(epochs, ckpt=None, resume=False, model=None):
        model = model or SequenceModel(GRU(2, 8, seed=0), 1, seed=0)
        opt = Adam(model.params, lr=1e-2)
        h = fit(model, train, valid, epochs=epochs, batch_size=16, checkpoint=ckpt, resume=resume, seed=3,
                optimizer=opt, clip=1.0)
        return model, h

    straight, h = run(6)
    assert h.val_loss[-1] < 0.5 * h.val_loss[0]
    path = tmp_path / "ckpt.npz"
    run(3, ckpt=path)  # interrupted after 3 epochs
    resumed, h2 = run(6, ckpt=path, resume=True, model=SequenceModel(GRU(2, 8, seed=9), 1, seed=9))
    for k, v in straight.params.items():
        np.testing.assert_array_equal(resumed.params[k], v)
    assert h2.train_loss == h.train_loss and h2.val_loss == h.val_loss
    with np.load(path, allow_pickle=False) as data:  # plain arrays only
        assert "param/weight_hh_l0" in data.files


def test_early_stopping_restores_the_best():
    train = adding_problem(10, 32, seed=1)
    valid = adding_problem(10, 32, seed=2)
    model = SequenceModel(LSTM(2, 4, seed=0), 1, seed=0)
    h = fit(model, train, valid, epochs=50, batch_size=32, patience=2, optimizer=SGD(model.params, lr=5.0))
    assert h.stopped_early and h.epochs_run < 50
    assert evaluate(model, valid) == pytest.approx(min(h.val_loss), rel=1e-6)


def test_fit_bad_arguments():
    task = sine_generation(n_steps=20, batch_size=2, washout=2, seed=0)
    model = SequenceModel(Elman(1, 3, 1, seed=0))
    with pytest.raises(ParameterError, match="epochs"):
        fit(model, task, epochs=0)
    with pytest.raises(ParameterError, match="loss"):
        fit(model, task, loss="hinge")
    with pytest.raises(ParameterError, match="batch_first"):
        SequenceModel(GRU(1, 2, batch_first=True))


@pytest.mark.slow
def test_lstm_solves_the_adding_problem_and_elman_does_not():
    """T = 100, test MSE < 0.01 (trivial baseline 1/6); an Elman network on the same budget for contrast."""
    train = adding_problem(100, 6400, seed=1)
    test = adding_problem(100, 1000, seed=2)
    results = {}
    for name, cell in (("lstm", LSTM(2, 32, seed=0)), ("elman", Elman(2, 32, 1, seed=0))):
        model = SequenceModel(cell, 1 if name == "lstm" else None, seed=0)
        if name == "lstm":  # forget-gate bias 1 (Gers et al. 2000), the usual initialisation
            cell.params["bias_hh_l0"][32:64] += 1.0
        opt = Adam(model.params, lr=1e-2)
        for epoch in range(6):
            fit(model, train, epochs=1, batch_size=16, clip=1.0, optimizer=opt, seed=epoch)
        results[name] = evaluate(model, test)
    # measured: lstm 0.0022 (breaks the plateau in the 5th epoch), elman at the baseline ~0.17
    assert results["lstm"] < 0.01, results
    assert results["elman"] > 0.1, results

r"""The training loop: mini-batches from a task, validation, early stopping, progress bar, checkpoints.

Checkpoints are ``.npz`` files (``allow_pickle=False``) holding the parameters, the best parameters,
the optimizer's buffers and the loop's counters; the batch order of epoch ``e`` is drawn from
``rng(seed, "fit", e)`` (:mod:`neurosim.seeding`), so a run resumed from a checkpoint continues
bit-identically to one that was never interrupted.
"""

from __future__ import annotations

import dataclasses
import os
import sys

import numpy as np

from neurosim.errors import ParameterError
from neurosim.seeding import check_seed, rng as seeded_rng
from neurosim.train.losses import LOSSES, TrainingError
from neurosim.train.optim import Adam, clip_grad_norm

__all__ = ["fit", "History", "evaluate"]


@dataclasses.dataclass
class History:
    """What :func:`fit` did.

    Attributes
    ----------
    train_loss, val_loss : list of float
        Per epoch (mean training loss over the epoch's batches; loss on the validation task).
    best_epoch : int
        Epoch (0-based) of the lowest validation loss (or training loss without validation).
    stopped_early : bool
    epochs_run : int
    """

    train_loss: list
    val_loss: list
    best_epoch: int = -1
    stopped_early: bool = False
    epochs_run: int = 0


def _loss_fn(loss):
    if callable(loss):
        return loss
    try:
        return LOSSES[loss]
    except (KeyError, TypeError):
        raise ParameterError(f"fit: loss must be one of {sorted(LOSSES)} or a callable, got {loss!r}") from None


def evaluate(model, task, loss="mse", last=False) -> float:
    """The loss of ``model`` (its own call, no recording) on a :class:`~neurosim.tasks.SequenceTask`."""
    fn = _loss_fn(loss)
    pred = model.predict(task.inputs)
    target = task.labels() if fn.__name__ == "cross_entropy_loss" else task.targets
    return fn(pred, target, task.mask, last)[0]


def _save(path, model, best, optim, meta):
    arrays = {f"param/{k}": v for k, v in model.params.items()}
    arrays.update({f"best/{k}": v for k, v in best.items()})
    arrays.update({f"optim/{k}": v for k, v in optim.state_dict().items()})
    arrays.update({f"meta/{k}": np.asarray(v) for k, v in meta.items()})
    tmp = os.fspath(path) + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _load(path):
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def fit(model, train, valid=None, *, loss="mse", last=False, optimizer=None, epochs=10, batch_size=32,
        clip=None, patience=None, checkpoint=None, resume=False, seed=0, progress=None, ops=None):
    r"""Train ``model`` by BPTT on a task with mini-batches over its batch axis.

    Each epoch shuffles the task's sequences (order from ``rng(seed, "fit", epoch)``), and for every
    mini-batch runs :meth:`SequenceModel.forward`, the loss, :meth:`SequenceModel.backward`, optional
    clipping and one optimizer step:

    .. math:: \theta \leftarrow \mathrm{opt}\big(\theta, \nabla_\theta L(\text{batch})\big)

    Parameters
    ----------
    model : SequenceModel
    train, valid : SequenceTask
        Training and (optional) validation data; the task's ``mask`` selects the scored steps.
    loss : {"mse", "cross_entropy"} or callable
        ``loss(pred, target, mask, last) -> (value, d_pred)``; cross-entropy reads the task's labels.
    last : bool
        Score only the last step (with the mask).
    optimizer : optimizer, optional
        Built on ``model.params`` (default ``Adam(model.params, lr=1e-2)``).
    epochs : int >= 1
    batch_size : int >= 1
    clip : float, optional
        Clip the gradient norm to this value.
    patience : int, optional
        Stop after this many epochs without a lower validation loss, and restore the best parameters.
    checkpoint : path, optional
        ``.npz`` written after every epoch.
    resume : bool
        Continue from ``checkpoint`` if it exists.
    seed : int
        The batch order's seed.
    progress : bool, optional
        tqdm progress bar (default: only when stderr is a terminal).
    ops : ops object, optional
        Arithmetic of the training forward pass (hardware-aware training passes a noisy one).

    Returns
    -------
    History

    Raises
    ------
    ParameterError
        Bad arguments; :class:`~neurosim.train.losses.TrainingError` on a NaN or inf loss or gradient.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.cells import Elman
    >>> from neurosim.tasks import sine_generation
    >>> from neurosim.train.model import SequenceModel
    >>> task = sine_generation(n_steps=60, batch_size=4, seed=0)
    >>> model = SequenceModel(Elman(1, 8, 1, dtype=np.float64, seed=0))
    >>> h = fit(model, task, epochs=3, batch_size=2)
    >>> len(h.train_loss)
    3
    """
    owner = "fit"
    seed = check_seed(owner, seed)
    fn = _loss_fn(loss)
    for name, v in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ParameterError(f"{owner}: {name} must be an integer >= 1, got {v!r}")
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1):
        raise ParameterError(f"{owner}: patience must be an integer >= 1 or None, got {patience!r}")
    if optimizer is None:
        optimizer = Adam(model.params, lr=1e-2)
    is_ce = getattr(fn, "__name__", "") == "cross_entropy_loss"
    targets = train.labels() if is_ce else train.targets
    hist = History([], [])
    best = model.state_dict()
    best_val = np.inf
    bad = 0
    start = 0
    if resume and checkpoint is not None and os.path.exists(checkpoint):
        d = _load(checkpoint)
        model.load_state_dict({k[6:]: v for k, v in d.items() if k.startswith("param/")})
        best = {k[5:]: v for k, v in d.items() if k.startswith("best/")}
        optimizer.load_state_dict({k[6:]: v for k, v in d.items() if k.startswith("optim/")})
        start = int(d["meta/epoch"]) + 1
        best_val = float(d["meta/best_val"])
        bad = int(d["meta/bad"])
        hist.train_loss = d["meta/train_loss"].tolist()
        hist.val_loss = d["meta/val_loss"].tolist()
        hist.best_epoch = int(d["meta/best_epoch"])
        hist.epochs_run = start
        if bool(d["meta/stopped"]):
            hist.stopped_early = True
            return hist
    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm.auto import tqdm

    B = train.batch_size
    bar = tqdm(range(start, epochs), disable=not progress, desc="fit", unit="epoch", initial=start, total=epochs)
    for epoch in bar:
        order = seeded_rng(seed, "fit", epoch).permutation(B)
        losses = []
        for b0 in range(0, B, batch_size):
            idx = np.sort(order[b0:b0 + batch_size])
            x = train.inputs[:, idx]
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected below, by value
                pred, tr = model.forward(x, ops=ops)
                value, d_pred = fn(pred, targets[:, idx], train.mask[:, idx], last)
                if not np.isfinite(value):
                    raise TrainingError(f"fit: the loss is {value} at epoch {epoch}; the weights were not changed "
                                        "(lower the learning rate or clip the gradient)")
                grads = model.backward(tr, d_pred)
            if clip is not None:
                clip_grad_norm(grads, clip)
            optimizer.step(grads)
            losses.append(value)
        hist.train_loss.append(float(np.mean(losses)))
        val = evaluate(model, valid, fn, last) if valid is not None else hist.train_loss[-1]
        hist.val_loss.append(float(val))
        if val < best_val:
            best_val, bad, hist.best_epoch = val, 0, epoch
            best = model.state_dict()
        else:
            bad += 1
        hist.epochs_run = epoch + 1
        stop = patience is not None and bad >= patience
        if stop:
            hist.stopped_early = True
        bar.set_postfix(loss=f"{hist.train_loss[-1]:.4g}", val=f"{val:.4g}")
        if checkpoint is not None:
            _save(checkpoint, model, best, optimizer,
                  dict(epoch=epoch, best_val=best_val, bad=bad, train_loss=np.array(hist.train_loss),
                       val_loss=np.array(hist.val_loss), best_epoch=hist.best_epoch, stopped=stop))
        if stop:
            break
    bar.close()
    if patience is not None:
        model.load_state_dict(best)
    return hist

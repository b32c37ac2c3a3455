"""Optional real data set: scikit-learn's 8x8 handwritten digits, read row by row."""

from __future__ import annotations

import numpy as np

from neurosim.errors import OptionalDependencyError
from neurosim.params import Param, check_params
from neurosim.tasks.base import SequenceTask, as_rng

__all__ = ["digits_rows", "OptionalDependencyError"]


_PARAMS = {"n_samples": Param("int", low=1, optional=True)}


def digits_rows(n_samples: int | None = None, seed: int = 0, rng: np.random.Generator | None = None) -> SequenceTask:
    r"""The UCI handwritten digits shipped by scikit-learn, one 8-pixel image row per time step.

    Each 8x8 image (pixel values 0..16, scaled to [0, 1]) is a sequence of 8 steps of 8 inputs;
    the class (0..9, one-hot) is scored at the last step by accuracy. scikit-learn is optional
    and not a neurosim dependency.

    .. math::

        u_{t,j} = \text{pixel}_{t,j} / 16, \qquad t, j = 0 .. 7

    Parameters
    ----------
    n_samples : int, optional
        Number of images drawn without replacement (``None``: all 1797, in a shuffled order).
    seed : int
        Seed of the shuffle (ignored when ``rng`` is given).
    rng : numpy.random.Generator, optional
        Generator of the shuffle.

    Returns
    -------
    SequenceTask
        inputs (8, n_samples, 8), one-hot targets (8, n_samples, 10), mask true at the last step.

    Raises
    ------
    OptionalDependencyError
        scikit-learn is not installed (``pip install scikit-learn`` to use this data set).
    """
    p = check_params("digits_rows", _PARAMS, dict(n_samples=n_samples))
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise OptionalDependencyError(
            "digits_rows: this optional data set needs scikit-learn, which is not installed "
            "(pip install scikit-learn); every other task works without it"
        ) from exc
    data = load_digits()
    gen = as_rng("digits_rows", seed, rng)
    order = gen.permutation(len(data.target))[: p["n_samples"]]
    images = data.images[order] / 16.0  # (N, 8, 8)
    inputs = np.transpose(images, (1, 0, 2))
    targets = np.zeros((8, len(order), 10))
    targets[:, np.arange(len(order)), data.target[order]] = 1.0
    mask = np.zeros((8, len(order)), bool)
    mask[-1] = True
    return SequenceTask("digits_rows", inputs, targets, mask, "classification", dict(p, seed=seed))

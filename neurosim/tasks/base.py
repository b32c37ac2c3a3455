"""The container every task generator returns: inputs, targets and how to score them."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from neurosim.errors import ParameterError
from neurosim.seeding import check_seed
from neurosim.seeding import rng as seeded_rng

__all__ = ["SequenceTask", "as_rng", "guard_sequences"]


@dataclasses.dataclass(frozen=True)
class SequenceTask:
    """A batch of input sequences with their targets, in the cells' ``(time, batch, features)`` layout.

    Parameters
    ----------
    name : str
        Task name (``"narma10"``, ``"mackey_glass"``, ...).
    inputs : ndarray, shape (time, batch, n_inputs)
        What the network reads, float64.
    targets : ndarray, shape (time, batch, n_outputs)
        What it should produce at each step, float64. For classification tasks the targets are
        one-hot rows (so a linear readout can be fitted to them directly).
    mask : ndarray of bool, shape (time, batch)
        Steps that are scored (washout steps and "don't care" steps are ``False``).
    kind : {"regression", "classification"}
        Regression tasks are scored by NRMSE, classification tasks by accuracy.
    params : dict
        The generator's arguments, for the report.

    Examples
    --------
    >>> import numpy as np
    >>> t = SequenceTask("demo", np.zeros((3, 1, 1)), np.ones((3, 1, 1)), np.ones((3, 1), bool),
    ...                  "regression", {})
    >>> t.n_steps, t.batch_size, t.n_inputs, t.n_outputs
    (3, 1, 1, 1)
    """

    name: str
    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    kind: str
    params: dict[str, Any]

    def __post_init__(self):
        if self.kind not in ("regression", "classification"):
            raise ParameterError(f"SequenceTask: kind must be one of 'regression', 'classification', got {self.kind!r}")
        if self.inputs.ndim != 3 or self.targets.ndim != 3:
            raise ParameterError(
                "SequenceTask: inputs and targets must have 3 dimensions (time, batch, features), "
                f"got {self.inputs.shape} and {self.targets.shape}"
            )
        if self.inputs.shape[:2] != self.targets.shape[:2] or self.mask.shape != self.inputs.shape[:2]:
            raise ParameterError(
                "SequenceTask: inputs, targets and mask must share (time, batch), got "
                f"{self.inputs.shape}, {self.targets.shape}, {self.mask.shape}"
            )

    @property
    def n_steps(self) -> int:
        """Sequence length (time steps)."""
        return self.inputs.shape[0]

    @property
    def batch_size(self) -> int:
        """Number of sequences."""
        return self.inputs.shape[1]

    @property
    def n_inputs(self) -> int:
        """Input features per step."""
        return self.inputs.shape[2]

    @property
    def n_outputs(self) -> int:
        """Target features per step."""
        return self.targets.shape[2]

    def labels(self) -> np.ndarray:
        """Integer class labels ``argmax(targets, -1)``, shape (time, batch) (classification tasks)."""
        return np.argmax(self.targets, axis=-1)


def as_rng(owner: str, seed: Any = 0, rng: Any = None) -> np.random.Generator:
    """Return ``rng`` if given, else the stream of ``seed`` (:func:`neurosim.seeding.rng`).

    A generator argument wins over the seed so that callers can keep one stream. The policy is the
    package's: ``None`` means seed 0, never OS entropy, so the same seed gives bit-identical data
    (for an integer seed the stream is ``numpy.random.default_rng(seed)``'s).

    Raises
    ------
    ParameterError
        ``seed`` is not a non-negative integer (or None) or ``rng`` is not a Generator.
    """
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise ParameterError(f"{owner}: rng must be a numpy.random.Generator, got {type(rng).__name__}")
        return rng
    return seeded_rng(check_seed(owner, seed))


def guard_sequences(owner: str, n_steps: int, batch_size: int = 1, features: int = 1) -> None:
    """Refuse a task whose arrays cannot fit in memory, before anything is allocated.

    Counts four float64 arrays of ``(n_steps, batch_size, features)`` (inputs, targets and the
    generator's work arrays).

    Raises
    ------
    ParameterError
        The estimate exceeds the available memory (see :func:`neurosim.memguard.check_memory`).
    """
    from neurosim.memguard import check_memory

    check_memory(owner, 4.0 * 8.0 * float(n_steps) * float(batch_size) * float(features), "the sequences")

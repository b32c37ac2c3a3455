r"""One seed policy for every random stream in neurosim.

Every stochastic object or function takes ``seed``. A run's randomness comes from **one root seed**,
expanded with :class:`numpy.random.SeedSequence` by **stable keys** (a crossbar's weight name, a
device group, a run's coordinates in a study), so that

* the same root seed gives bit-identical results in every process, on every executor, whatever
  order objects are built or runs complete in;
* two streams with different keys are statistically independent (``SeedSequence`` hashing);
* adding a new stream (a new key) never changes the numbers drawn by the existing ones.

The default policy, the same in every constructor: ``seed=None`` means the root seed ``0`` —
neurosim never draws entropy from the operating system, so a script that passes no seed is
still reproducible. Pass different seeds for different Monte Carlo samples.

Accepted seeds: an ``int >= 0``, a :class:`numpy.random.SeedSequence`, or a
:class:`numpy.random.Generator` (its bit generator's seed sequence is used as the root, so a
``default_rng(s)`` seeds exactly like ``s``).

A key is a string (hashed with BLAKE2b, stable across processes and Python versions, unlike
``hash``), a non-negative integer, or a tuple of those. The child of ``seed`` by keys
``k1, k2, ...`` is ``SeedSequence(root.entropy, spawn_key=root.spawn_key + (int(k1), int(k2), ...))``.

Examples
--------
>>> a = rng(7, "weight_hh_l0").random()
>>> b = rng(7, "weight_hh_l0").random()
>>> a == b, a == rng(7, "weight_ih_l0").random()
(True, False)
>>> rng(None).random() == rng(0).random()
True
>>> derive(3, "study", 5).spawn_key[-1]
5
"""

from __future__ import annotations

import hashlib
import numbers
from typing import Any, Union

import numpy as np

from neurosim.errors import ParameterError

__all__ = ["SeedLike", "DEFAULT_SEED", "check_seed", "root_sequence", "derive", "rng", "key_int"]

#: What a ``seed`` argument accepts.
SeedLike = Union[None, int, np.random.SeedSequence, np.random.Generator]

#: The root seed used when none is given (never OS entropy).
DEFAULT_SEED = 0


def check_seed(owner: str, seed: Any, name: str = "seed") -> SeedLike:
    """Validate a ``seed`` argument where the user passed it; returns it unchanged.

    Raises
    ------
    ParameterError
        Not an int >= 0, a SeedSequence, a Generator or None (bools are refused).

    Examples
    --------
    >>> check_seed("LSTM", -1)
    Traceback (most recent call last):
    ...
    neurosim.errors.ParameterError: LSTM: seed must be an integer >= 0, a numpy.random.SeedSequence, a numpy.random.Generator or None, got -1
    """
    if seed is None or isinstance(seed, (np.random.SeedSequence, np.random.Generator)):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_)) and int(seed) >= 0:
        return seed
    raise ParameterError(
        f"{owner}: {name} must be an integer >= 0, a numpy.random.SeedSequence, a numpy.random.Generator "
        f"or None, got {seed!r}"
    )


def key_int(key: Any) -> int:
    """A stable non-negative integer for one key (int as is; str by BLAKE2b, 64 bits).

    Examples
    --------
    >>> key_int(12), key_int("weight_hh_l0") == key_int("weight_hh_l0")
    (12, True)
    """
    if isinstance(key, numbers.Integral) and not isinstance(key, (bool, np.bool_)) and int(key) >= 0:
        return int(key)
    if isinstance(key, str):
        return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")
    raise ParameterError(f"seeding: a stream key must be a str or an integer >= 0, got {key!r}")


def _flatten(keys) -> tuple[int, ...]:
    out: list[int] = []
    for k in keys:
        if isinstance(k, tuple):
            out.extend(_flatten(k))
        else:
            out.append(key_int(k))
    return tuple(out)


def root_sequence(seed: SeedLike = None, owner: str = "seed") -> np.random.SeedSequence:
    """The root :class:`~numpy.random.SeedSequence` of ``seed`` (``None`` -> ``DEFAULT_SEED``)."""
    check_seed(owner, seed)
    if seed is None:
        return np.random.SeedSequence(DEFAULT_SEED)
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        ss = seed.bit_generator.seed_seq
        if not isinstance(ss, np.random.SeedSequence):  # pragma: no cover - legacy seeding
            raise ParameterError(f"{owner}: the Generator's bit generator has no SeedSequence")
        return ss
    return np.random.SeedSequence(int(seed))


def derive(seed: SeedLike, *keys: Any) -> np.random.SeedSequence:
    """The child seed sequence of ``seed`` by stable ``keys``.

    Parameters
    ----------
    seed : int, SeedSequence, Generator or None
        The root (``None`` -> 0).
    *keys : str, int or tuple of those
        Stable names of the stream (e.g. ``"weight_hh_l0"``, or a study run's coordinates).

    Returns
    -------
    numpy.random.SeedSequence
    """
    root = root_sequence(seed)
    if not keys:
        return root
    return np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + _flatten(keys),
                                  pool_size=root.pool_size)


def rng(seed: SeedLike = None, *keys: Any) -> np.random.Generator:
    """A PCG64 :class:`~numpy.random.Generator` on ``derive(seed, *keys)``.

    With no keys and ``seed`` a Generator, that Generator itself is returned (a user's stream is
    used, not copied).
    """
    if isinstance(seed, np.random.Generator) and not keys:
        return seed
    return np.random.Generator(np.random.PCG64(derive(seed, *keys)))

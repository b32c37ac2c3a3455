"""Reading cell parameters from ``.npz`` files (arrays only, never pickle)."""

from __future__ import annotations

import os
import zipfile
from collections import OrderedDict

import numpy as np

from neurosim.errors import ParameterError

__all__ = ["load_npz_state_dict"]


def load_npz_state_dict(path, prefix: str = "") -> OrderedDict:
    """Read a state_dict saved as ``.npz`` (``np.savez(path, **state_dict)``), with allow_pickle=False.

    A PyTorch state_dict is written this way with
    ``np.savez(path, **{k: v.numpy() for k, v in module.state_dict().items()})``.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    prefix : str
        Keep only the keys starting with ``prefix`` and strip it (e.g. ``"rnn."`` for the LSTM held
        in attribute ``rnn`` of a larger PyTorch module).

    Returns
    -------
    OrderedDict of str to ndarray
        In the file's order.

    Raises
    ------
    ParameterError
        The file cannot be read as an ``.npz`` of plain arrays, or no key has the prefix.

    Examples
    --------
    >>> import tempfile, os
    >>> from neurosim.cells import GRU
    >>> gru = GRU(3, 2, seed=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     gru.save(os.path.join(folder, "gru.npz"))
    ...     print(list(load_npz_state_dict(os.path.join(folder, "gru.npz"))))
    ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
    """
    where = os.fspath(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ParameterError(f"load_npz_state_dict: cannot read {where!r} as an .npz of arrays: {exc}") from exc
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ParameterError(f"load_npz_state_dict: {where!r} is a single .npy array, not an .npz of named arrays")
    try:
        with data:
            out = OrderedDict((k, data[k]) for k in data.files)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ParameterError(f"load_npz_state_dict: cannot read {where!r} as an .npz of arrays: {exc}") from exc
    if prefix:
        out = OrderedDict((k[len(prefix):], v) for k, v in out.items() if k.startswith(prefix))
        if not out:
            raise ParameterError(f"load_npz_state_dict: no key of {where!r} starts with prefix {prefix!r}")
    return out

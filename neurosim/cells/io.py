"""Reading cell parameters from ``.npz`` files (arrays only, never pickle).

An ``.npz`` is a zip archive of ``.npy`` members. Everything is checked from the archive's own
headers before any array data is decompressed: the file is a regular file of bounded size, each
member's name, its ``.npy`` header (dtype: real numbers only; shape) and its size agree, the declared
sizes fit the limits, and, when the expected entries are known (a cell's ``load``), unexpected names
and wrong shapes are refused before reading. Any corruption of the container (bad CRC, truncated or
malformed compression streams, unsupported compression) is a ParameterError naming the file and
member.
"""

from __future__ import annotations

import os
import zipfile
from collections import OrderedDict

import numpy as np

from neurosim.errors import ParameterError

__all__ = ["load_npz_state_dict", "MAX_ARRAY_BYTES"]

#: largest array one member may declare (bytes); weights of any realistic cell are far below
MAX_ARRAY_BYTES = 1 << 31
_REAL_KINDS = "fiu"


def _member_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str):
    """dtype and shape from a member's ``.npy`` header (reads only the header's bytes)."""
    with zf.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh, max_header_size=10000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh, max_header_size=10000)
        else:  # pragma: no cover - read_magic refuses others
            raise ValueError(f"unsupported .npy version {version}")
        offset = fh.tell()
    return dtype, shape, offset


def load_npz_state_dict(path, prefix: str = "", expected=None, strict: bool = True) -> OrderedDict:
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
    expected : mapping of str to tuple, optional
        The entries wanted and their shapes (after the prefix is stripped): wrong shapes, and with
        ``strict`` unexpected names, are refused from the headers, before any data is read;
        unexpected entries are never decompressed.
    strict : bool
        With ``expected``: refuse unexpected names (otherwise skip them).

    Returns
    -------
    OrderedDict of str to ndarray
        In the file's order.

    Raises
    ------
    ParameterError
        The file is not a regular ``.npz`` of real-valued arrays (strings, bytes, datetimes,
        complex numbers, objects are refused), an entry declares more than ``MAX_ARRAY_BYTES`` or
        disagrees with its own size, the container is corrupt, an entry is unexpected or wrongly
        shaped, or no key has the prefix.

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
    from neurosim.fileio import check_regular_file

    where = os.fspath(path)
    owner = "load_npz_state_dict"
    check_regular_file(path, owner=owner)
    with open(path, "rb") as fh:
        if fh.read(6) == b"\x93NUMPY":
            raise ParameterError(f"{owner}: {where!r} is a single .npy array, not an .npz of named arrays")
    out: OrderedDict = OrderedDict()
    member = None
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            plan = []
            for info in infos:
                member = info.filename
                if not member.endswith(".npy"):
                    raise ParameterError(f"{owner}: {where!r} member {member[:80]!r} is not an .npy array")
                key = member[:-4]
                if prefix:
                    if not key.startswith(prefix):
                        continue
                    key = key[len(prefix):]
                if expected is not None and key not in expected:
                    if strict:
                        raise ParameterError(f"{owner}: {where!r} has unexpected entry {key[:80]!r}; "
                                             f"expected: {list(expected)}")
                    continue
                dtype, shape, offset = _member_header(zf, info, where)
                if dtype.kind not in _REAL_KINDS or dtype.hasobject:
                    raise ParameterError(f"{owner}: {where!r} entry {key!r} must hold real numbers, got dtype {dtype}")
                nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if nbytes > MAX_ARRAY_BYTES:
                    raise ParameterError(f"{owner}: {where!r} entry {key!r} declares shape {shape} "
                                         f"({nbytes:.3g} bytes), more than the limit of {MAX_ARRAY_BYTES} bytes")
                if info.file_size != offset + nbytes:
                    raise ParameterError(f"{owner}: {where!r} entry {key!r} declares shape {shape} of {dtype} but holds "
                                         f"{info.file_size - offset} bytes of data")
                if expected is not None and tuple(expected[key]) != tuple(shape):
                    raise ParameterError(f"{owner}: {where!r} entry {key!r} has shape {tuple(shape)}, "
                                         f"expected {tuple(expected[key])}")
                plan.append((key, info))
            for key, info in plan:
                member = info.filename
                with zf.open(info) as fh:
                    out[key] = np.lib.format.read_array(fh, allow_pickle=False)
    except ParameterError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError,
            RuntimeError, MemoryError, KeyError, Exception) as exc:  # noqa: BLE001 - zlib, lzma, bz2 errors too
        at = f" member {member[:80]!r}" if member else ""
        raise ParameterError(f"{owner}: cannot read {where!r}{at} as an .npz of arrays: "
                             f"{type(exc).__name__}: {str(exc)[:200]}") from None
    if prefix and not out and expected is None:
        raise ParameterError(f"{owner}: no key of {where!r} starts with prefix {prefix!r}")
    return out

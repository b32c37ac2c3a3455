"""Where the data files that ship with neurosim are: device cards and the circuit library.

In a source checkout (the editable install of the README) they are the repository's ``devices/`` and
``circuits/`` folders; a non-editable install carries copies inside the package (``neurosim._cards``,
``neurosim._circuits``, see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

from neurosim.errors import ParameterError

__all__ = ["data_dir"]

_PACKAGE = Path(__file__).resolve().parent
_INSTALLED = {"devices": "_cards", "circuits": "_circuits"}


def data_dir(kind: str) -> Path:
    """The folder of the ``"devices"`` cards or of the ``"circuits"`` library.

    Examples
    --------
    >>> sorted(p.name for p in data_dir("circuits").glob("cell_*.cir"))[:1]
    ['cell_0t1r.cir']
    """
    if kind not in _INSTALLED:
        raise ParameterError(f"data_dir: kind must be one of {sorted(_INSTALLED)}, got {kind!r}")
    in_checkout = _PACKAGE.parent / kind
    return in_checkout if in_checkout.is_dir() else _PACKAGE / _INSTALLED[kind]

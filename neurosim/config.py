"""Configurations as plain values: frozen dataclasses <-> dicts <-> TOML files.

Every configuration a user writes or a study stores (crossbar, hardware, later sweeps) is a frozen
dataclass with a declared constraint table (:class:`~neurosim.params.Checked`) that inherits
:class:`PlainConfig`: ``to_dict``/``from_dict`` (unknown keys are errors naming the key),
``to_toml``/``from_toml`` (a file path or TOML text; malformed TOML names the file and line) and
``replace``. A class with nested or non-plain fields overrides ``to_dict`` and ``_from_plain``.

``tomllib`` only reads TOML; :func:`dumps` writes with tomli-w (the writer paired with tomllib's
parser; a hand-written writer here produced unreadable TOML for non-ASCII keys and control
characters in strings). ``None`` values are omitted (TOML has no null; the readers fill in the
dataclass defaults, which are ``None`` for every optional field).

Examples
--------
>>> import tomllib
>>> text = dumps({"a": 1, "b": {"c": [1.5, 2.0], "d": "x"}})
>>> tomllib.loads(text) == {"a": 1, "b": {"c": [1.5, 2.0], "d": "x"}}
True
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import tomllib
from collections.abc import Mapping
from pathlib import Path

import tomli_w

from neurosim.errors import ParameterError
from neurosim.params import Checked

__all__ = ["PlainConfig", "FrozenMapping", "freeze", "thaw", "dumps"]


class FrozenMapping(Mapping):
    """An immutable, hashable mapping: how a frozen configuration holds a table of options.

    Nested dicts become FrozenMappings and lists become tuples (:func:`freeze`); it compares equal
    to a dict with the same items; :func:`thaw` gives plain dicts and lists back.

    Examples
    --------
    >>> m = FrozenMapping({"r_wire": 2.0, "dac": {"bits": 8}})
    >>> m == {"r_wire": 2.0, "dac": {"bits": 8}}, hash(m) == hash(FrozenMapping(thaw(m)))
    (True, True)
    """

    __slots__ = ("_data",)

    def __init__(self, data=()):
        object.__setattr__(self, "_data", {k: freeze(v) for k, v in dict(data).items()})

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __eq__(self, other) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __setattr__(self, name, value):
        raise AttributeError("FrozenMapping is immutable")

    def __reduce__(self):
        return (FrozenMapping, (thaw(self),))

    def __repr__(self) -> str:
        return f"FrozenMapping({thaw(self)!r})"


def freeze(value):
    """``value`` with every dict turned into a :class:`FrozenMapping` and every list into a tuple."""
    if isinstance(value, FrozenMapping):
        return value
    if isinstance(value, Mapping):
        return FrozenMapping(value)
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value):
    """The inverse of :func:`freeze`: plain dicts and lists (for TOML and ``to_dict``)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def _plain(value, where: str):
    """``value`` as the types tomli-w writes: dicts, lists, str, bool, int, finite float; ``None``
    entries of tables dropped (TOML has no null)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{where}.{k}" if where else str(k)) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise ParameterError(f"TOML writer: {where} must be finite, got {value!r}")
        return float(value)
    raise ParameterError(f"TOML writer: cannot write {where} of type {type(value).__name__}: {value!r}")


def dumps(data: Mapping) -> str:
    """Serialise a nested mapping as TOML text.

    Parameters
    ----------
    data : mapping
        Keys are strings; values are scalars, lists, nested mappings or lists of mappings.

    Returns
    -------
    str
        TOML text that ``tomllib.loads`` reads back to ``data`` (without its ``None`` values).

    Raises
    ------
    ParameterError
        A value TOML cannot hold (non-finite float, unknown type).
    """
    return tomli_w.dumps(_plain(data, ""))


class PlainConfig(Checked):
    """Mixin for frozen, checked configuration dataclasses: dict and TOML round trips.

    Subclasses with nested configurations or objects (device models, non-idealities) override
    :meth:`to_dict` and the classmethod ``_from_plain(kwargs)``, which turns the plain values of
    :meth:`from_dict` back into constructor arguments.
    """

    def to_dict(self) -> dict:
        """The fields as a plain dict (``None`` kept)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def _from_plain(cls, kwargs: dict) -> dict:
        return kwargs

    @classmethod
    def from_dict(cls, data: dict):
        """Build from :meth:`to_dict` output (or a TOML table); unknown keys are errors.

        Raises
        ------
        ParameterError
            Not a table, an unknown key, or an invalid value.
        """
        if not isinstance(data, dict):
            raise ParameterError(f"{cls.__name__}: expected a table (dict), got {data!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ParameterError(f"{cls.__name__}: unknown key(s) {unknown}; allowed: {sorted(names)}")
        return cls(**cls._from_plain(dict(data)))

    def to_toml(self, path: str | Path | None = None) -> str:
        """TOML text of :meth:`to_dict`; also written to ``path`` when given."""
        text = dumps(self.to_dict())
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_toml(cls, source: str | Path):
        """Read from TOML text or a ``.toml`` file path.

        Raises
        ------
        ParameterError
            Unreadable file, malformed TOML (file name, line and column) or invalid content.
        """
        if not isinstance(source, (str, Path)) and not hasattr(source, "__fspath__"):
            raise ParameterError(f"{cls.__name__}.from_toml: source must be TOML text or a .toml file path, got {type(source).__name__}")
        name, text = "<string>", str(source)
        if isinstance(source, Path) or hasattr(source, "__fspath__") or (text.endswith(".toml") and "\n" not in text):
            from neurosim.fileio import read_text  # regular files only, bounded size, UTF-8

            name = str(source)
            text = read_text(source, owner=cls.__name__)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:  # the message carries "(at line N, column M)"
            raise ParameterError(f"{cls.__name__}: {name}: {exc}") from None
        except RecursionError:
            raise ParameterError(f"{cls.__name__}: {name}: TOML nested too deeply") from None
        return cls.from_dict(data)

    def replace(self, **changes):
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)

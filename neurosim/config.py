"""Configurations as plain values: frozen dataclasses <-> dicts <-> TOML files.

Every configuration a user writes or a study stores (crossbar, hardware, later sweeps) is a frozen
dataclass with a declared constraint table (:class:`~neurosim.params.Checked`) that inherits
:class:`PlainConfig`: ``to_dict``/``from_dict`` (unknown keys are errors naming the key),
``to_toml``/``from_toml`` (a file path or TOML text; malformed TOML names the file and line) and
``replace``. A class with nested or non-plain fields overrides ``to_dict`` and ``_from_plain``.

``tomllib`` only reads TOML; :func:`dumps` is a tiny writer for nested tables of str, bool, int,
float and lists of those or of tables (arrays of tables). ``None`` values are omitted (TOML has no
null; the readers fill in the dataclass defaults, which are ``None`` for every optional field).

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
import tomllib
from collections.abc import Mapping
from pathlib import Path

from neurosim.errors import ParameterError
from neurosim.params import Checked

__all__ = ["PlainConfig", "dumps"]


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterError(f"TOML writer: values must be finite, got {value!r}")
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    raise ParameterError(f"TOML writer: cannot write a value of type {type(value).__name__}: {value!r}")


def _key(key: str) -> str:
    if key and all(c.isalnum() or c in "_-" for c in key):
        return key
    return _scalar(str(key))


def _is_table_list(value) -> bool:
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(isinstance(v, Mapping) for v in value)


def _emit(table: Mapping, prefix: str, out: list[str]) -> None:
    # Scalars first: TOML assigns keys after a [header] to that header's table.
    for key, value in table.items():
        if value is None or isinstance(value, Mapping) or _is_table_list(value):
            continue
        out.append(f"{_key(key)} = {_scalar(value)}")
    for key, value in table.items():
        name = f"{prefix}.{_key(key)}" if prefix else _key(key)
        if isinstance(value, Mapping):
            out.append("")
            out.append(f"[{name}]")
            _emit(value, name, out)
        elif _is_table_list(value):
            for item in value:
                out.append("")
                out.append(f"[[{name}]]")
                _emit(item, name, out)


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
    out: list[str] = []
    _emit(data, "", out)
    return "\n".join(out).lstrip("\n") + "\n"


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
        name, text = "<string>", str(source)
        if isinstance(source, Path) or (text.endswith(".toml") and "\n" not in text):
            name = text
            try:
                text = Path(source).read_text()
            except OSError as exc:
                raise ParameterError(f"{cls.__name__}: cannot read {name}: {exc}") from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:  # the message carries "(at line N, column M)"
            raise ParameterError(f"{cls.__name__}: {name}: {exc}") from exc
        return cls.from_dict(data)

    def replace(self, **changes):
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)

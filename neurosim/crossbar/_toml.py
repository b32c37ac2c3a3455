"""A tiny TOML writer for plain configuration dictionaries (``tomllib`` only reads).

Supports what :class:`~neurosim.crossbar.CrossbarConfig` produces: nested tables of str, bool,
int, float and lists of those or of tables (arrays of tables). ``None`` values are omitted (TOML has
no null; the readers fill in the dataclass defaults, which are ``None`` for every optional field).

Examples
--------
>>> import tomllib
>>> text = dumps({"a": 1, "b": {"c": [1.5, 2.0], "d": "x"}})
>>> tomllib.loads(text) == {"a": 1, "b": {"c": [1.5, 2.0], "d": "x"}}
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from neurosim.errors import ParameterError

__all__ = ["dumps"]


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

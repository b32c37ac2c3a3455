"""Device cards: one TOML file per device (model family, SI parameters, valid ranges, source paper).

A card has four tables, and an optional fifth::

    [model]        family = "linear_ion_drift" | "team" | "vteam" | "yakopcic" | "soft_bounds" | "volatile"
                   description = "..." (optional)
    [parameters]   every parameter of the family's model, in SI units
    [ranges]       name = [low, high] for every numeric parameter; the value must lie inside
    [source]       authors, title, venue, year, doi (+ optional note, url)
    [array]        max_rows, max_cols (optional): the largest array (tile) the device allows
    [[nonidealities]]  (optional, repeated) type = "<registered non-ideality>" and its fields (SI):
                   the device's statistics (e.g. PCM programming noise, drift, read noise), returned
                   as ``DeviceCard.nonidealities`` for ``nonidealities=`` of a crossbar; a card never
                   switches them on by itself

Cards are looked up by name in the directories of ``$NEUROSIM_DEVICE_PATH`` (``os.pathsep``
separated) and then in ``<repository>/devices/`` (located relative to this package, so it works
from a checkout and from an installed copy); a path to a ``.toml`` file is used as is.

Examples
--------
>>> from neurosim.devices import load_device
>>> m = load_device("hp_tio2_strukov2008")
>>> type(m).__name__, m.R_on, m.R_off
('LinearIonDrift', 100.0, 16000.0)
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from pathlib import Path

from neurosim.errors import DeviceCardError, ParameterError
from neurosim.resources import data_dir

from .conductance import LinearConductance, SoftBoundsDevice
from .rram1t1r import GateControlledRRAM
from .drift import LinearIonDrift
from .team import TEAM, VTEAM
from .volatile import VolatileMemristor
from .yakopcic import Yakopcic

__all__ = ["FAMILIES", "model_class", "DeviceCard", "load_device", "read_card", "list_devices", "device_dirs"]

#: card family name -> model class
FAMILIES = {
    "linear_ion_drift": LinearIonDrift,
    "team": TEAM,
    "vteam": VTEAM,
    "yakopcic": Yakopcic,
    "soft_bounds": SoftBoundsDevice,
    "linear_conductance": LinearConductance,
    "gate_controlled_rram": GateControlledRRAM,
    "volatile": VolatileMemristor,
}



def model_class(name: str) -> type:
    """The device model class of a family name (``"vteam"``) or class name (``"VTEAM"``), for
    configuration files; only the families of :data:`FAMILIES`, never an arbitrary attribute.

    Raises
    ------
    ParameterError
        Unknown name (the message lists the known ones).
    """
    by_name = {cls.__name__: cls for cls in FAMILIES.values()}
    if isinstance(name, str) and (name in FAMILIES or name in by_name):
        return FAMILIES.get(name) or by_name[name]
    import difflib

    known = sorted(FAMILIES) + sorted(by_name)
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ParameterError(f"device type must be one of {known}, got {str(name)[:80]!r}{hint}")


_TABLES = ("model", "parameters", "ranges", "source")
_OPTIONAL_TABLES = ("array", "nonidealities")
_ARRAY_KEYS = {"max_rows": True, "max_cols": True}
_MODEL_KEYS = {"family": True, "description": False}
_SOURCE_KEYS = {"authors": True, "title": True, "venue": True, "year": True, "doi": True, "note": False, "url": False}


@dataclasses.dataclass(frozen=True)
class DeviceCard:
    """A loaded card: the model plus its declared ranges and source.

    Parameters
    ----------
    name : str
        Card name (file stem).
    path : str
        File it was read from.
    family : str
        Model family.
    model : DeviceModel
        The constructed model.
    ranges : dict
        ``name -> (low, high)`` valid range per numeric parameter.
    source : dict
        ``authors``, ``title``, ``venue``, ``year``, ``doi`` (and optional ``note``, ``url``).
    description : str
        One line from ``[model]``.
    max_array_size : tuple of int or None
        ``(max_rows, max_cols)`` from the optional ``[array]`` table: the largest array (tile) the
        published device was demonstrated in or is specified for; ``None`` when the card sets none.
    nonidealities : tuple
        The non-ideality objects of the optional ``[[nonidealities]]`` tables (the device's
        statistics), to pass as ``nonidealities=`` of a crossbar or hardware configuration.
    """

    name: str
    path: str
    family: str
    model: object
    ranges: dict
    source: dict
    description: str = ""
    max_array_size: tuple | None = None
    nonidealities: tuple = ()


def device_dirs() -> list[Path]:
    """Directories searched for cards, in order (``$NEUROSIM_DEVICE_PATH`` first, then the cards
    shipped with neurosim: ``<repo>/devices``, or their installed copy)."""
    dirs = [Path(p) for p in os.environ.get("NEUROSIM_DEVICE_PATH", "").split(os.pathsep) if p]
    dirs.append(data_dir("devices"))
    return dirs


def list_devices() -> list[str]:
    """Names of the cards found in :func:`device_dirs` (sorted, first occurrence wins)."""
    names: dict[str, None] = {}
    for d in device_dirs():
        if d.is_dir():
            for f in sorted(d.glob("*.toml")):
                names.setdefault(f.stem, None)
    return sorted(names)


def _resolve(name_or_path) -> Path:
    text = os.fspath(name_or_path)
    p = Path(text)
    if text.endswith(".toml") or os.sep in text or (os.altsep and os.altsep in text):
        if not p.is_file():
            raise DeviceCardError("no such device card file", path=text)
        return p
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", text):
        raise DeviceCardError(f"device name must be a card name or a path to a .toml file, got {text!r}")
    for d in device_dirs():
        cand = d / f"{text}.toml"
        if cand.is_file():
            return cand
    raise DeviceCardError(
        f"unknown device {text!r}; available: {', '.join(list_devices()) or '(none)'} "
        f"(searched {', '.join(str(d) for d in device_dirs())})"
    )


def _check_keys(path: str, table: str, got: dict, spec: dict) -> None:
    for key in got:
        if key not in spec:
            raise DeviceCardError(f"unknown key in [{table}]; allowed: {', '.join(spec)}", path=path, key=key)
    for key, required in spec.items():
        if required and key not in got:
            raise DeviceCardError(f"missing key in [{table}]", path=path, key=key)


def read_card(name_or_path) -> DeviceCard:
    """Read, validate and construct a device card.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        A card name (``"hp_tio2_strukov2008"``) or the path of a ``.toml`` file.

    Returns
    -------
    DeviceCard
        The model with its ranges and source.

    Raises
    ------
    DeviceCardError
        Unknown card, TOML syntax error, unknown or missing table/key, a value outside the card's
        range or the model's allowed range; the message names the file, the key and the range.
    """
    p = _resolve(name_or_path)
    path = str(p)
    from neurosim.fileio import read_bytes

    try:  # a regular file of bounded size (never a FIFO or a device), UTF-8 with or without a BOM
        raw = read_bytes(p, owner="read_card")
        text = raw.decode("utf-8-sig")
        data = tomllib.loads(text)
    except ParameterError as exc:
        raise DeviceCardError(str(exc).removeprefix("read_card: "), path=path) from None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DeviceCardError(f"not UTF-8 text (line {line}, byte 0x{raw[exc.start]:02x})", path=path) from None
    except RecursionError:
        raise DeviceCardError("TOML nested too deeply", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise DeviceCardError(f"TOML syntax error: {exc}", path=path) from exc
    for table in data:
        if table not in _TABLES + _OPTIONAL_TABLES:
            raise DeviceCardError(
                f"unknown table; allowed: {', '.join(_TABLES + _OPTIONAL_TABLES)}", path=path, key=table
            )
    for table in _TABLES:
        if not isinstance(data.get(table), dict):
            raise DeviceCardError(f"missing table [{table}]", path=path, key=table)
    _check_keys(path, "model", data["model"], _MODEL_KEYS)
    family = data["model"]["family"]
    if not isinstance(family, str) or family not in FAMILIES:
        raise DeviceCardError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}", path=path, key="family")
    cls = FAMILIES[family]
    fields = [f.name for f in dataclasses.fields(cls)]
    params = data["parameters"]
    _check_keys(path, "parameters", params, {f: True for f in fields})
    numeric = [f for f in fields if cls._params[f].kind in ("real", "int")]
    ranges = data["ranges"]
    _check_keys(path, "ranges", ranges, {f: True for f in numeric})
    clean_ranges = {}
    for key, rng in ranges.items():
        ok = (
            isinstance(rng, list)
            and len(rng) == 2
            and all(isinstance(r, (int, float)) and not isinstance(r, bool) for r in rng)
            and rng[0] <= rng[1]
        )
        if not ok:
            raise DeviceCardError(f"range must be [low, high] with low <= high, got {rng!r}", path=path, key=key)
        value = params[key]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not rng[0] <= value <= rng[1]:
            raise DeviceCardError(
                f"value {value!r} is outside the card's valid range [{rng[0]!r}, {rng[1]!r}] {cls._params[key].unit}".rstrip(),
                path=path,
                key=key,
            )
        clean_ranges[key] = (rng[0], rng[1])
    source = data["source"]
    _check_keys(path, "source", source, _SOURCE_KEYS)
    max_array = None
    if "array" in data:
        array = data["array"]
        if not isinstance(array, dict):
            raise DeviceCardError("[array] must be a table", path=path, key="array")
        _check_keys(path, "array", array, _ARRAY_KEYS)
        for key in _ARRAY_KEYS:
            value = array[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise DeviceCardError(f"must be an integer >= 1, got {value!r}", path=path, key=key)
        max_array = (array["max_rows"], array["max_cols"])
    nonideal = _card_nonidealities(path, data.get("nonidealities", []))
    try:
        model = cls(**params)
    except ParameterError as exc:
        m = re.match(r"^\w+: (\w+) ", str(exc))
        raise DeviceCardError(str(exc), path=path, key=m.group(1) if m else None) from exc
    return DeviceCard(
        name=p.stem,
        path=path,
        family=family,
        model=model,
        ranges=clean_ranges,
        source=dict(source),
        description=str(data["model"].get("description", "")),
        max_array_size=max_array,
        nonidealities=nonideal,
    )


def _card_nonidealities(path: str, tables) -> tuple:
    """The ``[[nonidealities]]`` tables as objects, from the explicit non-ideality registry."""
    from .nonideal import nonideality_class

    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise DeviceCardError("[[nonidealities]] must be an array of tables", path=path, key="nonidealities")
    out = []
    for table in tables:
        kwargs = dict(table)
        name = kwargs.pop("type", None)
        try:
            cls = nonideality_class(name)
        except ParameterError as exc:
            raise DeviceCardError(str(exc), path=path, key="type") from None
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - fields)
        if unknown:
            raise DeviceCardError(f"unknown key(s) {unknown} for non-ideality {name!r}; allowed: {sorted(fields)}",
                                  path=path, key=unknown[0])
        try:
            out.append(cls(**kwargs))
        except (ParameterError, TypeError) as exc:
            raise DeviceCardError(str(exc), path=path, key=name) from None
    return tuple(out)


def load_device(name_or_path):
    """Load a device model from its card (by name or path).

    Parameters
    ----------
    name_or_path : str or os.PathLike
        Card name (searched in :func:`device_dirs`) or path of a ``.toml`` file.

    Returns
    -------
    DeviceModel
        The model of the card's family with the card's parameters.

    Raises
    ------
    DeviceCardError
        See :func:`read_card`.
    """
    return read_card(name_or_path).model

r"""Study files: what to run (network, task, base hardware) and which axes to sweep.

A study file is TOML with these tables (every key checked, unknown keys refused with the nearest
valid name, errors naming the file and line):

.. code-block:: toml

    [study]
    name = "adc-bits-and-wires"     # the study's name in the result database
    seed = 0                        # root seed: data, weights, and every run's device seed
    max_runs = 10000                # larger studies need yes=True / --yes

    [network]                       # a reservoir + ridge readout, as `neurosim compare` trains it
    cell = "lstm"                   # rnn, lstm, gru, elman, jordan, indrnn, second_order
    hidden = 32
    alpha = 0.01                    # ridge penalty of the readout
    # weights = "w.npz"             # optional state_dict, relative to the study file

    [task]
    name = "mackey_glass"
    steps = 300                     # compared test length (training: max(steps, 1000))

    [hardware]                      # the base HardwareConfig (its TOML keys)
    device = "rram_softbounds_gong2018"
    read_mode = "device"

    [sweep]                         # grid axes: dotted key = list of values
    adc_bits = [4, 6, 8]
    "crossbar_options.r_wire" = [0.0, 2.0]

    [sample]                        # random points: n, then key = {low, high[, log]} or {choices}
    n = 10
    "nonidealities.ReadNoise.sigma" = {low = 0.0, high = 0.05}

    [monte_carlo]
    repeats = 5                     # device seeds per point

Axis keys name a field of the hardware configuration (``adc_bits``, ``hardware.adc_bits``), a
crossbar option (``crossbar_options.r_wire``), a non-ideality's field by its registered name
(``nonidealities.ReadNoise.sigma``, also ``nonidealities.read_noise.sigma``; added to the base
hardware if it is not there), a parameter of the device card's model (``device.R_off``), or a
field of the network or task (``network.hidden``, ``task.steps``).

Runs are the grid (product of the sweep axes) times the sample points times the repeats. Each
run's coordinates (axis values, sample index, repeat) name it; its device seed is
``derive(seed, "run", key)`` (:mod:`neurosim.seeding`), so a run's result depends on nothing but
the study file and its coordinates.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Param
from neurosim.seeding import derive

__all__ = ["Study", "Run", "load_study", "NETWORK_KEYS", "TASK_KEYS"]

STUDY_KEYS = {
    "name": Param("str"),
    "seed": Param("int", low=0),
    "max_runs": Param("int", low=1),
}
NETWORK_KEYS = {
    "cell": Param("choice", choices=("rnn", "lstm", "gru", "elman", "jordan", "indrnn", "second_order")),
    "hidden": Param("int", low=1, high=1_000_000),
    "alpha": Param("real", low=0, low_open=True),
    "spectral_radius": Param("real", low=0, low_open=True),
    "weights": Param("str"),
}
TASK_KEYS = {
    "name": Param("str"),
    "steps": Param("int", low=2, high=10_000_000),
    "train_steps": Param("int", low=2, high=10_000_000),
}
_DEFAULTS = {
    "study": {"seed": 0, "max_runs": 10_000},
    "network": {"cell": "rnn", "hidden": 64, "alpha": 1e-2, "spectral_radius": 0.9},
    "task": {"name": "mackey_glass", "steps": 500},
}
_TABLES = ("study", "network", "task", "hardware", "sweep", "sample", "monte_carlo")


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of a study.

    Attributes
    ----------
    key : str
        Canonical JSON of ``coords`` (the run's name in the result store).
    coords : dict
        Axis values, ``"sample"`` (sample point index, with sampling) and ``"repeat"``.
    seed : int
        The run's device seed, ``derive(study seed, "run", key)`` as a 63-bit integer.
    network, task : dict
        The run's network and task tables (defaults filled in).
    hardware : dict
        The run's plain hardware table (``HardwareConfig.from_dict`` input, seed included).
    """

    key: str
    coords: dict
    seed: int
    network: dict
    task: dict
    hardware: dict


class _Locator:
    """Line numbers of tables and keys in a TOML text (tomllib does not report them)."""

    _HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")

    def __init__(self, text: str, name: str):
        self.name = name
        self.lines = text.split("\n")

    def line(self, table: str, key: str | None = None) -> int | None:
        current = ""
        for n, raw in enumerate(self.lines, 1):
            m = self._HEADER.match(raw)
            if m:
                current = m.group(1).replace('"', "").replace("'", "").strip()
                if key is None and current == table:
                    return n
                continue
            if key is not None and current == table:
                k = raw.split("=", 1)[0].strip().strip('"').strip("'") if "=" in raw else None
                if k == key:
                    return n
        return None

    def where(self, table: str, key: str | None = None) -> str:
        n = self.line(table, key) or (self.line(table) if key is not None else None)
        return f"{self.name}:{n}" if n else self.name


def _hardware_fields():
    from neurosim.analog.hardware import _OWN, HardwareConfig
    from neurosim.crossbar.config import CrossbarConfig

    hw = [f.name for f in dataclasses.fields(HardwareConfig)]
    xb = [f.name for f in dataclasses.fields(CrossbarConfig) if f.name not in _OWN]
    return hw, xb


def _suggest(word: str, allowed) -> str:
    close = difflib.get_close_matches(str(word), list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclasses.dataclass(frozen=True)
class Study:
    """A checked study: base tables, axes and repeats (built by :func:`load_study`).

    Attributes
    ----------
    name : str
    seed : int
    max_runs : int
    network, task, hardware : dict
        Base tables (plain data).
    grid : dict of str to list
        Sweep axes, in file order.
    sample : dict
        ``{"n": int, key: spec}`` for random points (empty without sampling).
    repeats : int
    text : str
        The study file's text (its hash identifies the study in a result store).
    base_dir : str
        Directory that relative paths (weights) are resolved against.
    """

    name: str
    seed: int
    max_runs: int
    network: dict
    task: dict
    hardware: dict
    grid: dict
    sample: dict
    repeats: int
    text: str
    base_dir: str

    @property
    def digest(self) -> str:
        """SHA-256 of the study file's text: a changed file is a different study."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def n_runs(self) -> int:
        """Number of runs: grid points x sample points x repeats."""
        n = math.prod(len(v) for v in self.grid.values())
        return n * max(self.sample.get("n", 1), 1) * self.repeats

    def runs(self) -> list[Run]:
        """Every run, in a fixed order (grid outer, samples, repeats inner)."""
        keys = list(self.grid)
        points = list(itertools.product(*(self.grid[k] for k in keys))) if keys else [()]
        samples = self._sample_points()
        out = []
        for point in points:
            for s_index, s_values in samples:
                for r in range(self.repeats):
                    coords = dict(zip(keys, point))
                    if s_index is not None:
                        coords["sample"] = s_index
                        coords.update(s_values)
                    coords["repeat"] = r
                    out.append(self._run(coords))
        return out

    def _sample_points(self):
        if not self.sample:
            return [(None, {})]
        pts = []
        for i in range(self.sample["n"]):
            rng = np.random.Generator(np.random.PCG64(derive(self.seed, "sample", i)))
            values = {}
            for key, spec in self.sample.items():
                if key == "n":
                    continue
                if "choices" in spec:
                    values[key] = spec["choices"][int(rng.integers(len(spec["choices"])))]
                elif isinstance(spec["low"], int) and isinstance(spec["high"], int) and not spec.get("log"):
                    values[key] = int(rng.integers(spec["low"], spec["high"], endpoint=True))
                elif spec.get("log"):
                    values[key] = float(np.exp(rng.uniform(np.log(spec["low"]), np.log(spec["high"]))))
                else:
                    values[key] = float(rng.uniform(spec["low"], spec["high"]))
            pts.append((i, values))
        return pts

    def _run(self, coords: dict) -> Run:
        key = json.dumps(coords, sort_keys=True, separators=(",", ":"))
        ss = derive(self.seed, "run", key)
        seed = int(ss.generate_state(2, np.uint32).astype(np.uint64) @ np.array([1, 2**32], dtype=np.uint64)) >> 1
        network, task, hardware = dict(self.network), dict(self.task), json.loads(json.dumps(self.hardware))
        for k, v in coords.items():
            if k in ("repeat", "sample"):
                continue
            _apply(k, v, network, task, hardware)
        hardware["seed"] = seed
        return Run(key, coords, seed, network, task, hardware)

    def hardware_config(self, run: Run):
        """The run's :class:`~neurosim.analog.HardwareConfig`."""
        from neurosim.analog.hardware import HardwareConfig

        return HardwareConfig.from_dict(_plain_hardware(run.hardware))


def _plain_hardware(table: dict) -> dict:
    """The hardware table with non-idealities as a list and device overrides resolved to a model table."""
    out = dict(table)
    nis = out.get("nonidealities")
    if isinstance(nis, dict):  # {type: {fields}} as sweeps address them -> the list HardwareConfig reads
        out["nonidealities"] = [{"type": t, **f} for t, f in nis.items()]
    dev = out.get("device_overrides")
    if dev:
        from neurosim.devices import load_device

        model = load_device(out.get("device")) if isinstance(out.get("device"), str) else None
        if model is None:
            raise ParameterError("study: device.<parameter> axes need a device card in [hardware] device")
        model = dataclasses.replace(model, **dev)
        fields = {f.name: getattr(model, f.name) for f in dataclasses.fields(model)}
        out["device"] = {"type": type(model).__name__, **fields}
    out.pop("device_overrides", None)
    return out


def _apply(key: str, value: Any, network: dict, task: dict, hardware: dict) -> None:
    """Set one axis value (dotted key) in the run's tables."""
    parts = key.split(".")
    if parts[0] == "network":
        network[parts[1]] = value
    elif parts[0] == "task":
        task[parts[1]] = value
    else:
        if parts[0] == "hardware":
            parts = parts[1:]
        if parts[0] == "crossbar_options":
            opts = hardware.setdefault("crossbar_options", {})
            sub = opts
            for p in parts[1:-1]:
                sub = sub.setdefault(p, {})
            sub[parts[-1]] = value
        elif parts[0] == "nonidealities":
            nis = hardware.get("nonidealities") or {}
            if isinstance(nis, list):  # the base table's [[hardware.nonidealities]] list, by type
                nis = {d["type"]: {k: v for k, v in d.items() if k != "type"} for d in nis}
            hardware["nonidealities"] = nis
            nis.setdefault(parts[1], {})[parts[2]] = value
        elif parts[0] == "device":
            hardware.setdefault("device_overrides", {})[parts[1]] = value
        else:
            hardware[parts[0]] = value


def load_study(source, *, yes: bool = False) -> Study:
    """Read and check a study file (or TOML text) before anything runs.

    Parameters
    ----------
    source : str or path-like
        A ``.toml`` file path, or the TOML text itself.
    yes : bool
        Accept a study of more than ``max_runs`` runs.

    Returns
    -------
    Study

    Raises
    ------
    ParameterError
        Malformed TOML, an unknown table or key (with the nearest valid name), a wrong type or range,
        an empty axis, a dotted key that names no field, a hardware table or run configuration the
        hardware refuses, or too many runs without ``yes``; the message names the file and line.

    Examples
    --------
    >>> s = load_study('[study]\\nname = "demo"\\n[sweep]\\nadc_bits = [4, 8]\\n[monte_carlo]\\nrepeats = 3\\n')
    >>> s.n_runs, s.runs()[0].coords
    (6, {'adc_bits': 4, 'repeat': 0})
    """
    from neurosim.fileio import read_text

    if not isinstance(source, (str, Path)) and not hasattr(source, "__fspath__"):
        raise ParameterError(f"study: source must be TOML text or a .toml file path, got {type(source).__name__}")
    text, name, base = str(source), "<study>", "."
    if isinstance(source, Path) or (str(source).endswith(".toml") and "\n" not in str(source)):
        name, base = str(source), str(Path(source).resolve().parent)
        text = read_text(source, owner="study")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"study: {name}: {exc}") from None
    except RecursionError:
        raise ParameterError(f"study: {name}: TOML nested too deeply") from None
    loc = _Locator(text, name)
    for table in data:
        if table not in _TABLES:
            raise ParameterError(f"study: {loc.where(table)}: unknown table [{table}]{_suggest(table, _TABLES)}; "
                                 f"allowed: {list(_TABLES)}")
        if not isinstance(data[table], dict):
            raise ParameterError(f"study: {loc.where(table)}: {table} must be a table, got {data[table]!r}")

    def checked(table: str, spec: dict) -> dict:
        values = dict(_DEFAULTS.get(table, {}))
        for key, value in data.get(table, {}).items():
            if key not in spec:
                raise ParameterError(f"study: {loc.where(table, key)}: unknown key {table}.{key}{_suggest(key, spec)}; "
                                     f"allowed: {sorted(spec)}")
            try:
                values[key] = spec[key].check(f"study [{table}]", key, value)
            except ParameterError as exc:
                raise ParameterError(f"study: {loc.where(table, key)}: {exc}") from None
        return values

    study = checked("study", STUDY_KEYS)
    if "name" not in study:
        raise ParameterError(f"study: {loc.where('study')}: [study] needs a name (the study's name in the result store)")
    network = checked("network", NETWORK_KEYS)
    task = checked("task", TASK_KEYS)
    from neurosim.tasks import TASKS

    if task["name"] not in TASKS:
        raise ParameterError(f"study: {loc.where('task', 'name')}: task.name must be one of {sorted(TASKS)}, "
                             f"got {task['name']!r}{_suggest(task['name'], TASKS)}")
    hardware = dict(data.get("hardware", {}))
    hardware.setdefault("seed", study["seed"])
    from neurosim.analog.hardware import HardwareConfig

    try:
        HardwareConfig.from_dict(_plain_hardware(hardware))
    except ParameterError as exc:
        field = re.match(r"HardwareConfig: (?:unknown key\(s\) \[')?(\w+)", str(exc))
        where = loc.where("hardware", field.group(1)) if field else loc.where("hardware")
        raise ParameterError(f"study: {where}: [hardware]: {exc}") from None
    mc = data.get("monte_carlo", {})
    for key in mc:
        if key != "repeats":
            raise ParameterError(f"study: {loc.where('monte_carlo', key)}: unknown key monte_carlo.{key}"
                                 f"{_suggest(key, ['repeats'])}; allowed: ['repeats']")
    try:
        repeats = Param("int", low=1, high=10**9).check("study [monte_carlo]", "repeats", mc.get("repeats", 1))
    except ParameterError as exc:
        raise ParameterError(f"study: {loc.where('monte_carlo', 'repeats')}: {exc}") from None

    grid = {}
    for key, values in data.get("sweep", {}).items():
        where = loc.where("sweep", key)
        if not isinstance(values, list) or not values:
            raise ParameterError(f"study: {where}: sweep axis {key!r} must be a non-empty list of values, got {values!r}")
        _check_key(key, where, hardware)
        grid[_canonical(key)] = values
    sample: dict = {}
    if data.get("sample"):
        raw = dict(data["sample"])
        try:
            n = Param("int", low=1, high=10**9).check("study [sample]", "n", raw.pop("n", None))
        except ParameterError as exc:
            raise ParameterError(f"study: {loc.where('sample', 'n')}: {exc}") from None
        if not raw:
            raise ParameterError(f"study: {loc.where('sample')}: [sample] needs at least one axis besides n")
        sample["n"] = n
        for key, spec in raw.items():
            where = loc.where("sample", key)
            _check_key(key, where, hardware)
            sample[_canonical(key)] = _check_sample(key, spec, where)
    both = set(grid) & set(sample)
    if both:
        raise ParameterError(f"study: {loc.where('sample')}: axes {sorted(both)} are both swept and sampled")

    result = Study(study["name"], study["seed"], study["max_runs"], network, task, hardware, grid, sample, repeats,
                   text, base)
    if result.n_runs > study["max_runs"] and not yes:
        largest = max(grid, key=lambda k: len(grid[k])) if grid else "sample.n"
        raise ParameterError(
            f"study: {loc.where('sweep', largest) if grid else loc.where('sample', 'n')}: the study has "
            f"{result.n_runs:,} runs, more than max_runs={study['max_runs']:,}; pass yes=True (--yes) to run it "
            f"or raise [study] max_runs"
        )
    if result.n_runs <= 100_000:  # every run's configuration is checked before anything runs
        for run in result.runs():
            try:
                result.hardware_config(run)
            except ParameterError as exc:
                axis = next((k for k in run.coords if k not in ("repeat", "sample")), None)
                where = loc.where("sweep", axis) if axis in grid else loc.where("sample", axis)
                raise ParameterError(f"study: {where}: run {run.key}: {exc}") from None
    return result


def _canonical(key: str) -> str:
    """One spelling per axis: non-idealities by their registered name."""
    parts = key.split(".")
    if parts[0] == "hardware":
        parts = parts[1:]
    if parts[0] == "nonidealities" and len(parts) == 3:
        parts[1] = _nonideality(parts[1])[0]
    return ".".join(parts)


def _nonideality(name: str) -> tuple[str, type]:
    """The registered name and class of a non-ideality written as registered or in snake_case."""
    from neurosim.devices.nonideal import nonideality_class

    camel = "".join(p[:1].upper() + p[1:] for p in name.split("_"))
    for candidate in (name, camel):
        try:
            return candidate, nonideality_class(candidate)
        except ParameterError:
            continue
    nonideality_class(name)  # raises with the known names and the closest match
    raise AssertionError("unreachable")  # pragma: no cover


def _check_key(key: str, where: str, hardware: dict) -> None:
    """A dotted key must name a field; the message lists what it could name."""
    hw_fields, xb_fields = _hardware_fields()
    parts = key.split(".")
    if parts[0] == "hardware":
        parts = parts[1:]
    if not parts or not all(parts):
        raise ParameterError(f"study: {where}: axis key {key!r} is empty or has an empty part")
    head = parts[0]
    if head in ("network", "task"):
        spec = NETWORK_KEYS if head == "network" else TASK_KEYS
        if len(parts) != 2 or parts[1] not in spec:
            raise ParameterError(f"study: {where}: axis {key!r} names no {head} field{_suggest(parts[-1], spec)}; "
                                 f"allowed: {sorted(spec)}")
        return
    if head == "crossbar_options":
        if len(parts) < 2 or parts[1] not in xb_fields:
            raise ParameterError(f"study: {where}: axis {key!r} names no crossbar option"
                                 f"{_suggest(parts[-1], xb_fields)}; allowed: {sorted(xb_fields)}")
        return
    if head == "nonidealities":
        if len(parts) != 3:
            raise ParameterError(f"study: {where}: axis {key!r} must be nonidealities.<type>.<field>")
        try:
            cls = _nonideality(parts[1])[1]
        except ParameterError as exc:
            raise ParameterError(f"study: {where}: axis {key!r}: {exc}") from None
        fields = [f.name for f in dataclasses.fields(cls)]
        if parts[2] not in fields:
            raise ParameterError(f"study: {where}: axis {key!r}: {cls.__name__} has no field {parts[2]!r}"
                                 f"{_suggest(parts[2], fields)}; allowed: {fields}")
        return
    if head == "device":
        device = hardware.get("device")
        if len(parts) != 2 or not isinstance(device, str):
            raise ParameterError(f"study: {where}: axis {key!r} needs the form device.<parameter> and a device card "
                                 f"name in [hardware] device, got device={device!r}")
        from neurosim.devices import load_device

        fields = [f.name for f in dataclasses.fields(load_device(device))]
        if parts[1] not in fields:
            raise ParameterError(f"study: {where}: axis {key!r}: the card {device!r} has no parameter {parts[1]!r}"
                                 f"{_suggest(parts[1], fields)}; allowed: {fields}")
        return
    if len(parts) != 1 or head not in hw_fields or head in ("crossbar_options", "nonidealities", "seed"):
        allowed = [f for f in hw_fields if f not in ("crossbar_options", "nonidealities", "seed")]
        raise ParameterError(
            f"study: {where}: axis {key!r} names no field{_suggest(head, allowed + ['crossbar_options', 'nonidealities'])}; "
            f"allowed: hardware fields {allowed}, crossbar_options.<field>, nonidealities.<type>.<field>, "
            "device.<parameter>, network.<field>, task.<field> (the device seed is set per run, not swept)"
        )


def _check_sample(key: str, spec: Any, where: str) -> dict:
    if not isinstance(spec, dict):
        raise ParameterError(f"study: {where}: sample axis {key!r} must be a table {{low, high[, log]}} or {{choices}}, "
                             f"got {spec!r}")
    allowed = {"low", "high", "log", "choices"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ParameterError(f"study: {where}: sample axis {key!r}: unknown key(s) {unknown}"
                             f"{_suggest(unknown[0], allowed)}; allowed: {sorted(allowed)}")
    if "choices" in spec:
        if not isinstance(spec["choices"], list) or not spec["choices"]:
            raise ParameterError(f"study: {where}: sample axis {key!r}: choices must be a non-empty list")
        return dict(spec)
    try:
        low = Param("real").check(f"study [sample] {key}", "low", spec.get("low"))
        high = Param("real").check(f"study [sample] {key}", "high", spec.get("high"))
        log = Param("bool").check(f"study [sample] {key}", "log", spec.get("log", False))
    except ParameterError as exc:
        raise ParameterError(f"study: {where}: {exc}") from None
    if not high > low or (log and low <= 0):
        raise ParameterError(f"study: {where}: sample axis {key!r} needs high > low (and low > 0 with log), "
                             f"got low={low}, high={high}")
    out = {"low": spec["low"], "high": spec["high"]}
    if log:
        out["log"] = True
    return out

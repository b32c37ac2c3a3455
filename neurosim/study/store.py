"""The result store of studies: one SQLite file, one row per finished run, written as runs finish.

Tables: ``studies`` (name, SHA-256 of the study file, its text, neurosim version, creation time)
and ``runs`` (study, run key, coordinates and metrics as JSON, device seed, status, error text,
run time, finish time, neurosim version). Each run is written in its own transaction, so a study
killed at any point keeps every run that finished and loses none half-written; the database runs in
WAL mode with ``synchronous=NORMAL`` (safe against a killed process; a power cut may lose the last
runs, which are then simply run again).
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from pathlib import Path

from neurosim.errors import ParameterError

__all__ = ["ResultStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    digest TEXT NOT NULL,
    text TEXT NOT NULL,
    version TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    study_id INTEGER NOT NULL REFERENCES studies(id),
    key TEXT NOT NULL,
    coords TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    metrics TEXT,
    error TEXT,
    t_run REAL NOT NULL,
    finished TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (study_id, key)
);
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("neurosim-memristive")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


class ResultStore:
    """An SQLite file of study results.

    Parameters
    ----------
    path : str or path-like
        Database file (created if missing).

    Raises
    ------
    ParameterError
        The file is not a neurosim result database (or not SQLite).
    """

    def __init__(self, path):
        self.path = Path(path)
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=60.0)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ParameterError(f"ResultStore: {self.path} is not a neurosim result database: {exc}") from None
        self.version = _version()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def study_id(self, study) -> int:
        """The id of ``study`` in this store, registering it on first use.

        Raises
        ------
        ParameterError
            A study of the same name was stored from a different study file (results are never
            mixed: use another database or another ``[study] name``).
        """
        row = self.conn.execute("SELECT id, digest FROM studies WHERE name = ?", (study.name,)).fetchone()
        if row is not None:
            if row[1] != study.digest:
                raise ParameterError(
                    f"ResultStore: {self.path} holds study {study.name!r} from a different study file "
                    f"(sha256 {row[1][:12]}..., this file {study.digest[:12]}...); results are not mixed: "
                    "use another database or give the changed study another [study] name"
                )
            return int(row[0])
        with self.conn:
            cur = self.conn.execute(
                "INSERT INTO studies (name, digest, text, version, created) VALUES (?, ?, ?, ?, ?)",
                (study.name, study.digest, study.text, self.version, _now()),
            )
        return int(cur.lastrowid)

    def finished(self, study_id: int) -> set[str]:
        """Keys of the runs already recorded (finished or failed)."""
        return {r[0] for r in self.conn.execute("SELECT key FROM runs WHERE study_id = ?", (study_id,))}

    def record(self, study_id: int, run, outcome: dict) -> None:
        """Write one run's outcome (``status``, ``metrics``, ``error``, ``t_run``) in its own transaction."""
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO runs (study_id, key, coords, seed, status, metrics, error, t_run, finished, version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (study_id, run.key, json.dumps(run.coords, sort_keys=True), int(run.seed), outcome["status"],
                 json.dumps(outcome.get("metrics")), outcome.get("error"), float(outcome["t_run"]), _now(),
                 self.version),
            )

    def rows(self, study_id: int) -> list[dict]:
        """Every recorded run as a flat dict: coordinates, ``status``, metrics, ``error``, ``t_run``, ``seed``."""
        out = []
        for key, coords, seed, status, metrics, error, t_run in self.conn.execute(
            "SELECT key, coords, seed, status, metrics, error, t_run FROM runs WHERE study_id = ? ORDER BY rowid",
            (study_id,),
        ):
            row = {"key": key, **json.loads(coords), "seed": seed, "status": status}
            row.update(json.loads(metrics) or {})
            row["error"] = error
            row["t_run"] = t_run
            out.append(row)
        return out


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")

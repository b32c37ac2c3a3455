"""brian2 plumbing shared by the dynamics engines: code-generation target and compiled-code cache.

brian2's cython target compiles each generated code object once (tens of seconds for a new
network) and keeps the extension modules in a cache directory. neurosim points that cache at a
directory outside any repository (``$NEUROSIM_CACHE_DIR/brian2`` or the user cache directory
``$XDG_CACHE_HOME/neurosim/brian2``, default ``~/.cache/neurosim/brian2``), so every process of a
user shares it: a network compiles once per machine, not once per run.

The target is ``"cython"`` when a C compiler and Cython are available and ``"numpy"`` otherwise
(``target="auto"``); either may be forced. Preferences are set only for the duration of a build
and run (:func:`brian2_prefs`) and restored afterwards, so neurosim never leaves brian2's global
preferences changed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import sysconfig
from pathlib import Path

from neurosim.errors import ParameterError

__all__ = ["cache_dir", "compiler_available", "resolve_target", "brian2_prefs"]

TARGETS = ("auto", "cython", "numpy")


def cache_dir() -> Path:
    """Directory of neurosim's brian2 compiled-code cache (created on demand; outside the repository).

    Returns
    -------
    pathlib.Path
        ``$NEUROSIM_CACHE_DIR/brian2`` if that variable is set, else
        ``$XDG_CACHE_HOME/neurosim/brian2`` (``~/.cache/neurosim/brian2`` by default).
    """
    root = os.environ.get("NEUROSIM_CACHE_DIR")
    if root:
        base = Path(root)
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "neurosim"
    path = base / "brian2"
    path.mkdir(parents=True, exist_ok=True)
    return path


def compiler_available() -> bool:
    """True when Cython is importable and the C compiler Python was built with is on the PATH."""
    if importlib.util.find_spec("Cython") is None:
        return False
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) is not None or shutil.which("cc") is not None


def resolve_target(target: str, owner: str = "brian2") -> str:
    """``"auto"`` -> ``"cython"`` with a compiler, else ``"numpy"``; other values checked and returned."""
    if target not in TARGETS:
        raise ParameterError(f"{owner}: target must be one of {TARGETS}, got {target!r}")
    if target == "auto":
        return "cython" if compiler_available() else "numpy"
    return target


@contextlib.contextmanager
def brian2_prefs(target: str = "auto", owner: str = "brian2"):
    """Set brian2's code-generation target and neurosim's cache directory; restore them on exit.

    Yields
    ------
    module
        The ``brian2`` module.
    """
    import brian2

    target = resolve_target(target, owner)
    prefs = brian2.prefs
    old_target = prefs.codegen.target
    old_cache = prefs["codegen.runtime.cython.cache_dir"]
    prefs.codegen.target = target
    prefs["codegen.runtime.cython.cache_dir"] = str(cache_dir())
    try:
        yield brian2
    finally:
        prefs.codegen.target = old_target
        prefs["codegen.runtime.cython.cache_dir"] = old_cache

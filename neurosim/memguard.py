"""A guard before large allocations: refuse what cannot fit in memory, with a clear message.

``check_memory(owner, n_bytes, what)`` compares an allocation about to be made with the memory the
machine has available (``MemAvailable`` of ``/proc/meminfo``, else the physical memory) and raises a
ParameterError naming the size and its cause, instead of a MemoryError (or the system's
out-of-memory killer) after a long wait. ``NEUROSIM_ALLOW_LARGE=1`` in the environment lifts the
guard for users who know their swap or overcommit settings.
"""

from __future__ import annotations

import os

from neurosim.errors import ParameterError

__all__ = ["available_memory", "check_memory"]


def available_memory() -> int | None:
    """Bytes of memory available for new allocations, or None when unknown."""
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh.read(1 << 16).decode("ascii", "replace").splitlines():
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def check_memory(owner: str, n_bytes: float, what: str) -> None:
    """Refuse an allocation of ``n_bytes`` that does not fit in the available memory.

    Raises
    ------
    ParameterError
        ``n_bytes`` exceeds the available memory (unless ``NEUROSIM_ALLOW_LARGE=1``).

    Examples
    --------
    >>> check_memory("LSTM", 1e3, "the parameters")   # a kilobyte always fits
    """
    if os.environ.get("NEUROSIM_ALLOW_LARGE") == "1":
        return
    avail = available_memory()
    if avail is not None and n_bytes > avail:
        raise ParameterError(
            f"{owner}: {what} need {n_bytes / 2**30:.3g} GiB, more than the {avail / 2**30:.3g} GiB of memory "
            "available; reduce the sizes (or set NEUROSIM_ALLOW_LARGE=1 to try anyway)"
        )

"""The one exception hierarchy of neurosim.

Every error neurosim raises on purpose derives from :class:`NeurosimError`, so a user script can
catch them all with one ``except``. Errors about a value the user passed also derive from
``ValueError`` so that generic code which expects a ``ValueError`` keeps working.

::

    NeurosimError
    ├── ParameterError (ValueError)      a value, shape, dtype or range the user passed is wrong
    │   └── DeviceCardError              a device card file: names the file and the key
    ├── NetlistError (ValueError)        the circuit graph is malformed (names elements and nodes)
    │   └── SpiceSyntaxError             a SPICE deck: names the file and the line
    ├── ConvergenceError (RuntimeError)  a solver gave up: residual, worst node, what was tried
    └── OptionalDependencyError (ImportError)  a feature needs a package that is not installed
"""

from __future__ import annotations

__all__ = [
    "NeurosimError",
    "ParameterError",
    "DeviceCardError",
    "NetlistError",
    "SpiceSyntaxError",
    "ConvergenceError",
    "OptionalDependencyError",
]


class NeurosimError(Exception):
    """Base class of every error neurosim raises on purpose."""


class ParameterError(NeurosimError, ValueError):
    """A parameter, array shape, dtype or value passed by the user is not allowed.

    The message names the owner (class or function), the parameter, what is allowed and what was
    received, e.g. ``LSTM: hidden_size must be an integer >= 1, got 0``.
    """


class DeviceCardError(ParameterError):
    """A device card (TOML file) is malformed: unknown or missing key, value out of range.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str, optional
        The card file.
    key : str, optional
        The offending key.
    """

    def __init__(self, message: str, path: str | None = None, key: str | None = None):
        self.path = path
        self.key = key
        where = ""
        if path is not None:
            where = f"{path}: "
        if key is not None:
            where += f"key '{key}': "
        super().__init__(where + message)


class NetlistError(NeurosimError, ValueError):
    """The circuit is malformed: duplicate names, floating nodes, loops of voltage sources, ...

    The message names the elements and nodes involved.
    """


class SpiceSyntaxError(NetlistError):
    """A SPICE deck could not be parsed.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str, optional
        The file being read (``"<string>"`` for text passed directly).
    line : int, optional
        1-based line number in that file.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path is not None or line is not None:
            where = f"{path or '<string>'}:{line if line is not None else '?'}: "
        super().__init__(where + message)


class ConvergenceError(NeurosimError, RuntimeError):
    """A nonlinear or transient solve did not converge.

    The message says the final residual, the worst node or element, and the strategies tried
    (plain Newton, gmin stepping, source stepping, step-size reduction).
    """


class OptionalDependencyError(NeurosimError, ImportError):
    """An optional package that a feature needs is not installed (the message says which and how
    to install it)."""

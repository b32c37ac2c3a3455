"""Reader of binary SPICE raw files, as written by ``ngspice -b -r file.raw``.

The binary format stores every value as an IEEE double, so results keep full precision (no
printing to 6 digits). A raw file holds one or more *plots* (one per analysis); each has a header::

    Title: ...
    Plotname: Operating Point
    Flags: real
    No. Variables: 3
    No. Points: 1
    Variables:
        0   v(in)   voltage
        ...
    Binary:
    <points x variables doubles, little endian>       (complex: 2 doubles per value)
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neurosim.errors import NeurosimError

__all__ = ["RawPlot", "read_raw"]


@dataclasses.dataclass
class RawPlot:
    """One analysis of a raw file.

    Attributes
    ----------
    name : str
        The plot name, e.g. ``"Operating Point"`` or ``"Transient Analysis"``.
    vectors : dict of str to numpy.ndarray
        Lower-case vector name (``"time"``, ``"v(out)"``, ``"i(v1)"``) -> 1-D array over points.
    types : dict of str to str
        Vector name -> ngspice type (``"voltage"``, ``"current"``, ``"time"``).
    """

    name: str
    vectors: dict
    types: dict


def _fail(path: str, message: str) -> NeurosimError:
    return NeurosimError(f"{path}: malformed raw file: {message}")


def read_raw(path: str) -> list[RawPlot]:
    """Read every plot of a SPICE raw file.

    Parameters
    ----------
    path : str
        The raw file.

    Returns
    -------
    list of RawPlot

    Raises
    ------
    NeurosimError
        The file is not a raw file or is truncated.
    """
    with open(path, "rb") as fh:
        data = fh.read()
    plots: list[RawPlot] = []
    pos = 0
    while pos < len(data):
        if data[pos:].strip() == b"":
            break
        header: dict[str, str] = {}
        names: list[str] = []
        types: list[str] = []
        mode = None
        while mode is None:
            end = data.find(b"\n", pos)
            if end < 0:
                raise _fail(path, "header not terminated")
            line = data[pos:end].decode("latin-1").rstrip("\r")
            pos = end + 1
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key == "variables":
                nvar = int(header.get("no. variables", "0"))
                for _ in range(nvar):
                    end = data.find(b"\n", pos)
                    if end < 0:
                        raise _fail(path, "variable list truncated")
                    parts = data[pos:end].decode("latin-1").split()
                    pos = end + 1
                    if len(parts) < 3:
                        raise _fail(path, f"bad variable line {parts!r}")
                    names.append(parts[1].lower())
                    types.append(parts[2].lower())
            elif key in ("binary", "values"):
                mode = key
            elif line.strip():
                header[key] = value.strip()
        try:
            nvar = int(header["no. variables"])
            npts = int(header["no. points"])
        except (KeyError, ValueError):
            raise _fail(path, "missing 'No. Variables' or 'No. Points'") from None
        is_complex = "complex" in header.get("flags", "").lower()
        width = 2 if is_complex else 1
        if mode == "binary":
            count = npts * nvar * width
            nbytes = 8 * count
            if pos + nbytes > len(data):
                raise _fail(path, f"expected {nbytes} bytes of data, found {len(data) - pos}")
            values = np.frombuffer(data, dtype="<f8", count=count, offset=pos)
            pos += nbytes
        else:
            # the runner always asks for binary output (full double precision)
            raise _fail(path, "ASCII raw files are not supported; write binary (set filetype=binary)")
        values = values.reshape(npts, nvar, width)
        table = values[..., 0] + 1j * values[..., 1] if is_complex else values[..., 0].copy()
        vectors = {name: table[:, k] for k, name in enumerate(names)}
        plots.append(RawPlot(header.get("plotname", ""), vectors, dict(zip(names, types))))
    return plots


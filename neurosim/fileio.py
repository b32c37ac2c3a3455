"""Reading the files users give neurosim (decks, includes, cards, configs, weights), safely.

One place decides what a readable input file is, so that no parser hangs or allocates without
bound on a bad path: only **regular files** are read (a FIFO, a device such as ``/dev/zero``, a
directory or a socket is refused before it is opened), at most ``max_bytes`` are read, and text is
UTF-8 with an optional byte-order mark (``utf-8-sig``). A decoding error names the file and line.

Examples
--------
>>> import tempfile, os
>>> d = tempfile.mkdtemp()
>>> p = os.path.join(d, "a.txt")
>>> _ = open(p, "wb").write(b"\\xef\\xbb\\xbfhello\\n")
>>> read_text(p, owner="demo")
'hello\\n'
>>> read_text(d, owner="demo")
Traceback (most recent call last):
...
neurosim.errors.ParameterError: demo: ... is not a regular file (a directory)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from neurosim.errors import ParameterError

__all__ = ["MAX_FILE_BYTES", "check_regular_file", "read_bytes", "read_text"]

#: Largest input file read by default (bytes): far above any deck, card or config people write.
MAX_FILE_BYTES = 256 * 1024 * 1024

_KINDS = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]


def check_regular_file(path, *, owner: str, error: type = ParameterError) -> Path:
    """``path`` as a :class:`~pathlib.Path` if it names an existing regular file, else ``error``.

    Raises
    ------
    error (ParameterError by default)
        Missing file, or not a regular file (FIFO, device, directory, socket).
    """
    p = Path(os.fspath(path))
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise error(f"{owner}: file {str(p)!r} does not exist") from None
    except OSError as exc:
        raise error(f"{owner}: cannot read {str(p)!r}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a file")
        raise error(f"{owner}: {str(p)!r} is not a regular file ({kind})")
    return p


def read_bytes(path, *, owner: str, max_bytes: int = MAX_FILE_BYTES, error: type = ParameterError) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` bytes.

    Raises
    ------
    error (ParameterError by default)
        See :func:`check_regular_file`; or the file is larger than ``max_bytes``.
    """
    p = check_regular_file(path, owner=owner, error=error)
    try:
        with open(p, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"{owner}: cannot read {str(p)!r}: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise error(f"{owner}: {str(p)!r} is larger than the limit of {max_bytes} bytes")
    return data


def read_text(path, *, owner: str, max_bytes: int = MAX_FILE_BYTES, error: type = ParameterError) -> str:
    """The text of a regular UTF-8 file (a leading byte-order mark is dropped).

    Line ends are left as they are: parsers decide what a line is.

    Raises
    ------
    error (ParameterError by default)
        See :func:`read_bytes`; or the bytes are not UTF-8 (the message gives the line).
    """
    data = read_bytes(path, owner=owner, max_bytes=max_bytes, error=error)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{owner}: {os.fspath(path)}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x})") from None

"""Input files: only regular files, bounded size, UTF-8 with BOM, errors with file and line."""

import os

import pytest

from neurosim.errors import ParameterError
from neurosim.fileio import read_bytes, read_text


def test_fifo_and_device_and_directory_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path, kind in [(fifo, "FIFO"), ("/dev/zero", "character device"), (tmp_path, "directory")]:
        with pytest.raises(ParameterError, match=kind):
            read_text(path, owner="t")


def test_missing_file_named(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        read_text(tmp_path / "nope.cir", owner="read_spice")


def test_size_limit(tmp_path):
    p = tmp_path / "big"
    p.write_bytes(b"x" * 101)
    assert len(read_bytes(p, owner="t", max_bytes=101)) == 101
    with pytest.raises(ParameterError, match="larger than the limit of 100 bytes"):
        read_bytes(p, owner="t", max_bytes=100)


def test_bom_dropped_and_bad_utf8_names_line(tmp_path):
    p = tmp_path / "a.toml"
    p.write_bytes(b"\xef\xbb\xbfa = 1\r\nb = 2\n")
    assert read_text(p, owner="t") == "a = 1\r\nb = 2\n"
    p.write_bytes(b"a = 1\nb = 2\nc = '\xff'\n")
    with pytest.raises(ParameterError, match=r"a.toml:3: not UTF-8"):
        read_text(p, owner="t")

"""Bad input ends in a NeurosimError that names the thing and its location, within a time limit;
never a hang, a foreign exception, a silent NaN or a silently wrong answer (issue 17's defects).

Seeded generators of malformed inputs; each case is timed.
"""

import io
import os
import time
import zipfile

import numpy as np
import pytest

from neurosim.errors import ConvergenceError, DeviceCardError, NeurosimError, ParameterError, SpiceSyntaxError


class _Within:
    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        elapsed = time.perf_counter() - self.t0
        assert elapsed < self.seconds, f"took {elapsed:.2f} s (limit {self.seconds} s)"
        return False


# ------------------------------------------------------------------------------------- weights
def _npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@pytest.mark.parametrize("bad", [np.array(["a", "b"]), np.array([b"x"]), np.array(["2020-01-01"], dtype="datetime64[D]"),
                                 np.array([1 + 2j]), np.array([{"a": 1}], dtype=object)],
                         ids=["str", "bytes", "datetime", "complex", "object"])
def test_weights_of_non_real_dtypes_are_refused(tmp_path, bad):
    from neurosim.cells.io import load_npz_state_dict

    path = tmp_path / "w.npz"
    path.write_bytes(_npz_bytes(weight_ih_l0=bad))
    with pytest.raises(ParameterError, match="entry 'weight_ih_l0' must hold real numbers"):
        load_npz_state_dict(path)


def test_broken_npz_containers_give_a_parameter_error(tmp_path):
    from neurosim.cells import GRU
    from neurosim.cells.io import load_npz_state_dict

    gru = GRU(3, 4, seed=0)
    good = tmp_path / "good.npz"
    gru.save(good)
    raw = good.read_bytes()
    # compressed members too (deflate, bzip2, lzma): their decoders raise their own exception types
    packed = {}
    for method in (zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        buf = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(buf, "w", compression=method) as dst:
            for info in src.infolist():
                dst.writestr(info.filename, src.read(info))
        packed[method] = buf.getvalue()
    rng = np.random.default_rng(0)
    cases = 0
    for blob in [raw, *packed.values()]:
        for _ in range(60):
            data = bytearray(blob)
            if rng.random() < 0.5:
                data = data[: int(rng.integers(0, len(data)))]
            else:
                for k in rng.integers(0, len(data), size=int(rng.integers(1, 8))):
                    data[k] = int(rng.integers(0, 256))
            path = tmp_path / "bad.npz"
            path.write_bytes(bytes(data))
            with _Within(2.0):
                try:
                    out = load_npz_state_dict(path)
                except ParameterError:
                    cases += 1
                    continue
            assert all(np.asarray(v).dtype.kind in "fiu" for v in out.values())  # a flip that changed nothing
    assert cases > 150


def test_declared_huge_shapes_and_unexpected_entries_are_refused_before_reading(tmp_path):
    from neurosim.cells import RNN
    from neurosim.cells.io import load_npz_state_dict

    # a header declaring (1e6, 1e6) float64 (7 TiB) over a few bytes of data
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("weight_ih_l0.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\x00" * 16)
    with _Within(1.0), pytest.raises(ParameterError, match=r"declares shape \(1000000, 1000000\)"):
        load_npz_state_dict(path)
    # an unexpected 512 MiB entry (it compresses to ~0.5 MB) is rejected from the names, never decompressed
    rnn = RNN(3, 4, seed=0)
    path = tmp_path / "extra.npz"
    rnn.save(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("extra.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": (64 * 2**20,)})
            chunk = bytes(1 << 22)
            for _ in range(128):
                fh.write(chunk)
    with _Within(1.0), pytest.raises(ParameterError, match="unexpected entry 'extra'"):
        rnn.load(path)


# ------------------------------------------------------------------------------------- SPICE
def test_only_newlines_end_spice_lines():
    from neurosim.spice import read_spice

    # str.splitlines() would have made elements R2 and R3 out of comment text
    deck = "title\r\nV1 a 0 1\r\nR1 a 0 1k ; trailing\x85R2 a 0 1\f\v\x1c\u2028 text\r\n* comment\u2028R3 a 0 1\n.end\n"
    net = read_spice(deck).netlist
    names = {str(n) for g in net.groups for n in g.names}
    assert names == {"V1", "R1"}
    with pytest.raises(SpiceSyntaxError, match=r":4: "):  # \r\n counts one line, U+2028 none
        read_spice("t\r\nV1 a 0 1\r\nR1 a 0 1k\r\nQ1 a b c\r\n.end\r\n")


def test_spice_inputs_that_used_to_hang_or_echo(tmp_path):
    from neurosim.spice import read_spice

    fifo = tmp_path / "deck.cir"
    os.mkfifo(fifo)
    with _Within(2.0), pytest.raises(SpiceSyntaxError, match="not a regular file"):
        read_spice(str(fifo))
    inc = tmp_path / "inc.cir"
    inc.write_bytes("\ufeffR2 a 0 2k\n".encode("utf-8"))  # an include with a byte-order mark
    deck = tmp_path / "top.cir"
    deck.write_text(f"top\nV1 a 0 1\n.include '{inc}'\n.end\n")
    assert read_spice(str(deck)).netlist is not None
    with _Within(2.0):  # a B source line of 200k characters: linear-time refusal
        with pytest.raises(SpiceSyntaxError) as info:
            read_spice("t\nV1 a 0 1\nB1 a 0 I=V(a,0)*(" + "1" * 200_000 + "+(2-1)/(1+exp(-(V(a,0)-(0.5))/0.1)))x\n.end\n")
        assert len(str(info.value)) < 1000
    with pytest.raises(SpiceSyntaxError) as info:
        read_spice("t\nR1 a 0 " + "z" * 400_000 + "\n.end\n")
    assert len(str(info.value)) < 1000
    flat = "t\n" + "".join(f"R{i} a 0 1k\n" for i in range(50)) + ".end\n"
    with pytest.raises(SpiceSyntaxError, match="more than 20 elements"):
        read_spice(flat, max_elements=20)


def test_random_mutations_of_a_deck_end_in_a_clear_error_or_a_netlist():
    from neurosim.spice import read_spice

    base = ("rc\nV1 in 0 PULSE(0 1 0 1n 1n 1u 2u)\nR1 in out 1k\nC1 out 0 1n\n.subckt cell a b r=1k\nR1 a b {r}\n"
            ".ends\nX1 out 0 cell r=2k\n.param k=2\n.tran 1n 10u\n.end\n")
    alphabet = list("()={}'\",.+-*/;$ \t\r\n\x00\x85\u2028eE1k") + ["1e308", "{", "1/0", ".subckt", ".include x"]
    rng = np.random.default_rng(1)
    for _ in range(300):
        chars = list(base)
        for _ in range(int(rng.integers(1, 6))):
            k = int(rng.integers(0, len(chars)))
            op = rng.integers(0, 3)
            if op == 0:
                chars.insert(k, alphabet[int(rng.integers(len(alphabet)))])
            elif op == 1 and chars:
                del chars[k % len(chars)]
            else:
                chars[k % len(chars)] = alphabet[int(rng.integers(len(alphabet)))]
        with _Within(2.0):
            try:
                read_spice("".join(chars))
            except NeurosimError as exc:
                assert str(exc) and len(str(exc)) < 1200


# ------------------------------------------------------------------------------------- configs and cards
def test_config_inputs(tmp_path):
    from neurosim.analog import HardwareConfig
    from neurosim.crossbar import CrossbarConfig

    for bad in (None, 3, b"x"):
        with pytest.raises(ParameterError, match="source must be TOML text or a .toml file path"):
            HardwareConfig.from_toml(bad)
    with _Within(2.0), pytest.raises(ParameterError, match="nested too deeply"):
        HardwareConfig.from_toml("a = " + "[" * 100_000 + "]" * 100_000)
    for name in ("simulate", "plot_iv", "__class__", "ReadNoise.__init__"):
        with pytest.raises(ParameterError, match="non-ideality type must be one of"):
            CrossbarConfig.from_toml(f'[[nonidealities]]\ntype = "{name}"\n')
    with pytest.raises(ParameterError, match=r"did you mean 'r_wire'"):
        HardwareConfig(crossbar_options={"r_wyre": 1.0})
    path = tmp_path / "hw.toml"
    path.write_bytes(b'read_mode = "device"\n# \xff\xfe\n')
    with pytest.raises(ParameterError, match="hw.toml:2: not UTF-8"):
        HardwareConfig.from_toml(path)
    for range_field in ("input_range", "state_range"):
        with pytest.raises(ParameterError, match=f"HardwareConfig: {range_field} must be a real number in"):
            HardwareConfig(**{range_field: 1e-308})


def test_device_card_inputs(tmp_path):
    from neurosim.devices import read_card
    from neurosim.resources import data_dir

    text = (data_dir("devices") / "hp_tio2_strukov2008.toml").read_text()
    bad = tmp_path / "card.toml"
    bad.write_bytes(text.encode() + b"\n# \xff\n")
    with pytest.raises(DeviceCardError, match="not UTF-8"):
        read_card(str(bad))
    bad.write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n")
    with pytest.raises(DeviceCardError):
        read_card(str(bad))
    rng = np.random.default_rng(2)
    for _ in range(150):
        chars = list(text)
        for _ in range(int(rng.integers(1, 4))):
            k = int(rng.integers(0, len(chars)))
            chars[k] = "=[]\"'\n#1e-9xyz"[int(rng.integers(14))]
        bad.write_text("".join(chars))
        with _Within(2.0):
            try:
                read_card(str(bad))
            except NeurosimError as exc:
                assert str(bad) in str(exc)


# ------------------------------------------------------------------------------------- numbers and sizes
def test_no_silent_overflow_and_no_divide_by_zero():
    from neurosim.netlist import Netlist
    from neurosim.solve import dc, transient

    net = Netlist("overflow")
    net.add_vsource("V", "a", "0", dc=1e308)
    net.add_resistor("R", "a", "0", 1e-300)
    with pytest.raises(ConvergenceError, match="overflows float64"):
        dc(net)
    rc = Netlist("rc")
    rc.add_vsource("V", "a", "0", dc=1.0)
    rc.add_resistor("R", "a", "b", 1e3)
    rc.add_capacitor("C", "b", "0", 1e-6)
    for t_stop in (1e-300, 1e300):
        with pytest.raises(ParameterError, match="t_stop must be a real number in"):
            transient(rc, t_stop)


def test_what_used_to_run_for_minutes_now_solves_or_stops_with_a_clear_error():
    from neurosim.devices import load_device
    from neurosim.netlist import Netlist, Pulse, Sine
    from neurosim.solve import dc, quasistatic, transient

    card = load_device("hp_tio2_strukov2008")
    r_m = card.R_on * card.initial_state + card.R_off * (1 - card.initial_state)  # ohmic at a fixed state
    for volts in (1e4, 1e5, 1e6):
        # DC Newton walked an ohmic memristor up in 1 V steps (21,000 iterations at 1e4-1e5 V): the
        # step limit now applies only where a device's tangent mispredicts its current
        net = Netlist("memristor at high voltage")
        net.add_vsource("V", "a", "0", dc=volts)
        net.add_resistor("R", "a", "b", 100.0)
        net.add_device("M", "b", "0", card)
        with _Within(2.0):
            op = dc(net)
        assert abs(float(op.v("b")) - volts * r_m / (100.0 + r_m)) <= 1e-12 * volts
    with _Within(10.0):  # quasistatic at 1e6 V: was past 180 s; the state runs into its upper bound
        res = quasistatic(net, 1.0)
    assert float(res.state("M")[-1]) == card.state_bounds[1]
    diode = Netlist("budget")  # the total Newton budget still bounds what cannot converge in time
    diode.add_vsource("V", "a", "0", dc=50.0)
    diode.add_resistor("R", "a", "b", 1.0)
    diode.add_diode("D", "b", "0", i_s=1e-14)
    with _Within(2.0), pytest.raises(ConvergenceError, match="max_total_iter=6"):
        dc(diode, max_iter=3, max_total_iter=6)
    rc = Netlist("rc")
    rc.add_vsource("V", "a", "0", dc=1.0)
    rc.add_resistor("R", "a", "b", 1e3)
    rc.add_capacitor("C", "b", "0", 1e-6)
    with _Within(1.0), pytest.raises(ParameterError, match=r"needs at least 1e\+09 steps, more than max_steps"):
        transient(rc, 1.0, dt_max=1e-9)  # gave up after 200,000 steps (20 s)
    fast = Netlist("a 1 GHz source over a millisecond")  # ~1e8 steps needed: stopped at the first pace check
    fast.add_vsource("V", "a", "0", waveform=Sine(0.0, 1.0, 1e9))
    fast.add_resistor("R", "a", "b", 1e3)
    fast.add_capacitor("C", "b", "0", 1e-12)
    with _Within(15.0), pytest.raises(ConvergenceError, match="at the pace of the last 10000 steps"):
        transient(fast, 1e-3, progress=False)
    pulse = Netlist("short period, long run")
    pulse.add_vsource("V", "a", "0", waveform=Pulse(0.0, 1.0, 0.0, 1e-12, 1e-12, 1e-12, 1e-11))
    pulse.add_resistor("R", "a", "b", 1e3)
    pulse.add_capacitor("C", "b", "0", 1e-9)
    with _Within(2.0), pytest.raises(ParameterError, match="edge corners"):
        transient(pulse, 1e3)


def test_size_guard_before_large_allocations():
    from neurosim.cells import LSTM
    from neurosim.cli import main

    with _Within(2.0), pytest.raises(ParameterError, match=r"LSTM: the parameters need .* GiB, more than"):
        LSTM(3, 10**9)
    with _Within(30.0):
        assert main(["compare", "--hidden", "1000000000"]) == 2

"""The neurosim command: help text, the main job on small settings, determinism, errors."""

import json
import subprocess
import sys

import pytest

from neurosim.cli import main


def test_help_documents_every_option(capsys):
    assert main(["compare", "--help"]) == 0
    text = capsys.readouterr().out
    for opt in ("--cell", "--device", "--read-mode", "--dac-bits", "--adc-bits", "--read-noise", "--adc-noise", "--task",
                "--seed", "--steps", "--out", "--method", "--epochs", "--hwa-epochs"):
        assert opt in text


def test_python_dash_m_runs():
    proc = subprocess.run([sys.executable, "-m", "neurosim", "compare", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--read-mode" in proc.stdout


def test_default_main_job_shows_the_three_rows_and_the_hwa_win(tmp_path, capsys):
    """The defaults (an LSTM trained by BPTT, 6-bit converters on the RRAM card): the analog run of the
    plainly trained weights loses accuracy, the hardware-aware-trained weights win most of it back
    (measured: digital 0.085, analog 0.266, analog hardware-aware 0.134: 73 % recovered)."""
    assert main(["compare", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "hardware-aware  analog" in text and "plain           analog" in text and "recovers" in text
    data = json.loads((tmp_path / "comparison.json").read_text())
    rows = {(r["weights"], r["execution"]): r["nrmse"] for r in data["training"]["rows"]}
    assert rows[("plain", "digital")] < 0.12
    assert rows[("plain", "analog")] > 2 * rows[("plain", "digital")]  # the gap
    assert data["training"]["recovered"] > 0.5  # hardware-aware training wins most of it back
    assert data["summary"]["nrmse_analog_hwa"] == rows[("hardware-aware", "analog")]
    assert "Hardware-aware training" in (tmp_path / "report.html").read_text()


def test_small_main_job_writes_report_and_is_deterministic(tmp_path, capsys):
    args = ["compare", "--steps", "120", "--hidden", "8", "--seed", "3", "--epochs", "6", "--hwa-epochs", "2"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    text = capsys.readouterr().out
    assert "nrmse_analog" in text and "hidden_rmse_mean" in text and "nrmse_analog_hwa" in text
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    a = (tmp_path / "a" / "comparison.json").read_bytes()
    assert a == (tmp_path / "b" / "comparison.json").read_bytes()
    data = json.loads(a)
    assert data["metric"]["name"] == "nrmse" and data["summary"]["hidden_rmse_mean"] > 0
    for name in ("error_vs_step.png", "traces.png", "error_per_gate.png", "hardware.toml"):
        assert (tmp_path / "a" / name).exists()


def test_cell_and_task_choices_and_hardware_file(tmp_path, capsys):
    from neurosim.analog import HardwareConfig

    hw = tmp_path / "hw.toml"
    HardwareConfig(read_mode="device", dac_bits=6, adc_bits=6, input_range=1.0).to_toml(hw)
    assert main(["compare", "--cell", "lstm", "--task", "adding", "--steps", "20", "--hidden", "8", "--epochs", "4",
                 "--hwa-epochs", "1", "--hardware", str(hw), "--out", str(tmp_path / "r")]) == 0
    assert "lstm" in capsys.readouterr().out


def test_noise_options_reach_the_hardware_and_raise_the_error(tmp_path, capsys):
    from neurosim.analog import HardwareConfig

    args = ["compare", "--method", "reservoir", "--steps", "80", "--hidden", "8", "--seed", "1"]
    assert main(args + ["--out", str(tmp_path / "quiet")]) == 0
    assert main(args + ["--read-noise", "0.05", "--adc-noise", "0.02", "--out", str(tmp_path / "noisy")]) == 0
    hw = HardwareConfig.from_toml(tmp_path / "noisy" / "hardware.toml")
    assert hw.adc_noise == 0.02 and [n.sigma for n in hw.nonidealities] == [0.05]
    quiet, noisy = (json.loads((tmp_path / d / "comparison.json").read_text())["summary"]["hidden_rmse_mean"]
                    for d in ("quiet", "noisy"))
    assert noisy > 2 * quiet


def test_bad_arguments_give_exit_status_2(tmp_path, capsys):
    assert main(["compare", "--dac-bits", "1", "--out", str(tmp_path)]) == 2
    assert "dac_bits must be an integer in [2, 24]" in capsys.readouterr().err
    assert main(["compare", "--adc-noise", "-0.1", "--out", str(tmp_path)]) == 2
    assert "adc_noise must be a real number in [0, 1], got -0.1" in capsys.readouterr().err
    assert main(["compare", "--read-noise", "-0.1", "--out", str(tmp_path)]) == 2
    assert "ReadNoise: sigma" in capsys.readouterr().err
    assert main(["compare", "--cell", "transformer"]) == 2


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "elman", "jordan", "indrnn", "second_order"])
def test_main_job_runs_for_every_cell(cell, tmp_path, capsys):
    assert main(["compare", "--cell", cell, "--steps", "60", "--hidden", "8", "--epochs", "16", "--hwa-epochs", "2",
                 "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "comparison.json").read_text())
    assert data["metric"]["digital"] < 1.0  # the trained network beats predicting the mean
    assert data["summary"]["hidden_rmse_mean"] > 0 and len(data["training"]["rows"]) == 4


@pytest.mark.parametrize("cell", ["rnn", "elman"])
def test_reservoir_method_stays_an_option(cell, tmp_path, capsys):
    assert main(["compare", "--method", "reservoir", "--cell", cell, "--steps", "60", "--hidden", "8",
                 "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "comparison.json").read_text())
    assert data["metric"]["digital"] < 1.0 and data["training"] is None
    assert "(hidden 8) on mackey_glass" in capsys.readouterr().out


def test_weights_file_is_loaded(tmp_path, capsys):
    from neurosim.cells import RNN

    path = tmp_path / "rnn.npz"
    RNN(1, 8, seed=5).save(path)
    args = ["compare", "--cell", "rnn", "--hidden", "8", "--steps", "60", "--epochs", "2", "--hwa-epochs", "1"]
    assert main(args + ["--weights", str(path), "--out", str(tmp_path / "a")]) == 0
    RNN(1, 9, seed=5).save(path)
    assert main(args + ["--weights", str(path), "--out", str(tmp_path / "b")]) == 2
    assert "weight_ih_l0" in capsys.readouterr().err

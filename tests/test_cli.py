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
                "--seed", "--steps", "--out"):
        assert opt in text


def test_python_dash_m_runs():
    proc = subprocess.run([sys.executable, "-m", "neurosim", "compare", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--read-mode" in proc.stdout


def test_small_main_job_writes_report_and_is_deterministic(tmp_path, capsys):
    args = ["compare", "--steps", "120", "--hidden", "16", "--seed", "3"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    text = capsys.readouterr().out
    assert "nrmse_analog" in text and "hidden_rmse_mean" in text
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
    assert main(["compare", "--cell", "lstm", "--task", "adding", "--steps", "20", "--hidden", "8",
                 "--hardware", str(hw), "--out", str(tmp_path / "r")]) == 0
    assert "lstm" in capsys.readouterr().out


def test_noise_options_reach_the_hardware_and_raise_the_error(tmp_path, capsys):
    from neurosim.analog import HardwareConfig

    args = ["compare", "--steps", "80", "--hidden", "8", "--seed", "1"]
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
    assert main(["compare", "--cell", cell, "--steps", "60", "--hidden", "8", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "comparison.json").read_text())
    assert data["metric"]["digital"] < 1.0  # the trained readout beats predicting the mean
    assert data["summary"]["hidden_rmse_mean"] > 0


def test_weights_file_is_loaded(tmp_path, capsys):
    from neurosim.cells import RNN

    path = tmp_path / "rnn.npz"
    RNN(1, 8, seed=5).save(path)
    assert main(["compare", "--hidden", "8", "--steps", "60", "--weights", str(path), "--out", str(tmp_path / "a")]) == 0
    RNN(1, 9, seed=5).save(path)
    assert main(["compare", "--hidden", "8", "--steps", "60", "--weights", str(path), "--out", str(tmp_path / "b")]) == 2
    assert "weight_ih_l0" in capsys.readouterr().err

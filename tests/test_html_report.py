"""The HTML reports render in a real browser: headless Chromium loads them, decodes every inline
figure, and logs no console error."""

import re
import subprocess

import numpy as np

from neurosim.analog import HardwareConfig
from neurosim.cells import LSTM
from neurosim.study import compare
from neurosim.study.sweep import run_study


def _render(chromium, path, tmp_path):
    proc = subprocess.run(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=5000", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert not console, console
    return proc.stdout


def test_comparison_report_renders_tables_and_figures(chromium_path, tmp_path):
    cell = LSTM(3, 8, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).uniform(-1, 1, (30, 2, 3))
    res = compare(cell, HardwareConfig(read_mode="device", dac_bits=6, adc_bits=6), x, targets=cell(x)[0])
    paths = res.save_report(tmp_path / "report")
    dom = _render(chromium_path, paths["html"], tmp_path)
    assert re.search(r'data-images-rendered="3"', dom)  # all three figures decoded
    assert dom.count("<table>") == 3 and "energy_read_J" in dom and "read_mode" in dom
    assert "weight_hh_l0[f]" in dom  # the per-gate table


def test_comparison_report_shows_the_hardware_aware_rows(chromium_path, tmp_path):
    cell = LSTM(3, 8, dtype=np.float64, seed=0)
    hwa = LSTM(3, 8, dtype=np.float64, seed=1)
    x = np.random.default_rng(0).uniform(-1, 1, (30, 2, 3))
    res = compare(cell, HardwareConfig(read_mode="device", dac_bits=6, adc_bits=6), x, targets=cell(x)[0],
                  hwa_cell=hwa)
    dom = _render(chromium_path, res.save_report(tmp_path / "report")["html"], tmp_path)
    assert dom.count("<table>") == 4 and "Hardware-aware training" in dom and "recovers" in dom
    assert "<td>hardware-aware</td><td>analog</td>" in dom


def test_study_report_renders(chromium_path, tmp_path):
    text = ('[study]\nname = "html"\n[network]\nhidden = 8\n[task]\nsteps = 60\ntrain_steps = 200\n'
            '[sweep]\nadc_bits = [4, 8]\nread_disturb = [false, true]\n')
    res = run_study(text, tmp_path / "r.sqlite", executor="serial", progress=False)
    path = res.save_html("nrmse_analog", tmp_path / "plots")
    dom = _render(chromium_path, path, tmp_path)
    assert re.search(r'data-images-rendered="3"', dom)  # two axes and the heat map
    assert "Failed runs (2)" in dom and "read_disturb needs" in dom  # the failing runs are listed

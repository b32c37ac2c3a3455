"""Studies: analog vs digital comparisons and their reports."""

from neurosim.study.compare import GATE_LABELS, Comparison, compare
from neurosim.study.deployment import deployment_table, plot_deployment
from neurosim.study.report import save_report

__all__ = ["compare", "Comparison", "save_report", "GATE_LABELS", "plot_deployment", "deployment_table"]

"""Benchmark sequence tasks, metrics and a closed-form readout trainer.

Every generator takes an explicit ``seed`` (or ``rng``) and returns a :class:`SequenceTask` in
the cells' ``(time, batch, features)`` layout with a mask of the scored steps.
"""

from neurosim.tasks.base import SequenceTask
from neurosim.tasks.digits import OptionalDependencyError, digits_rows
from neurosim.tasks.mackey_glass import mackey_glass, mackey_glass_series
from neurosim.tasks.metrics import accuracy, nrmse, rmse
from neurosim.tasks.narma import narma10, narma10_series
from neurosim.tasks.readout import RidgeReadout, fit_ridge
from neurosim.tasks.synthetic import adding_problem, copy_task, sine_generation

__all__ = [
    "SequenceTask",
    "mackey_glass",
    "mackey_glass_series",
    "narma10",
    "narma10_series",
    "sine_generation",
    "adding_problem",
    "copy_task",
    "digits_rows",
    "OptionalDependencyError",
    "rmse",
    "nrmse",
    "accuracy",
    "RidgeReadout",
    "fit_ridge",
]

TASKS = {
    "narma10": narma10,
    "mackey_glass": mackey_glass,
    "sine": sine_generation,
    "adding": adding_problem,
    "copy": copy_task,
    "digits": digits_rows,
}
"""Task generators by the short name the command line uses."""

"""neurosim: memristive and neuromorphic hardware, from device model card to recurrent network.

The public API is re-exported here; everything else is an implementation detail.
Layers (data flows one way, a lower layer never imports a higher one)::

    devices -> netlist -> solve -> crossbar -> cells -> analog -> train, dynamics, tasks -> reservoir, memory -> study -> cli
"""

from neurosim.errors import (
    ConvergenceError,
    DeviceCardError,
    NetlistError,
    NeurosimError,
    ParameterError,
    SpiceSyntaxError,
)

__version__ = "0.1.0"

# --- cells (issue 2) ---
from neurosim.cells import GRU, LSTM, RNN, Elman, IndRNN, Jordan, SecondOrderRNN, load_npz_state_dict
# --- devices (issue 4) ---
from neurosim.devices import (
    TEAM,
    VTEAM,
    CycleToCycleNoise,
    DeviceToDeviceVariability,
    FiniteLevels,
    LinearIonDrift,
    NonIdealities,
    NonlinearReadIV,
    ReadNoise,
    RetentionDrift,
    SoftBoundsDevice,
    StuckAtFaults,
    Yakopcic,
    load_device,
)
# --- netlist / solve / spice (issue 3) ---
from neurosim.spice import read_spice, run_ngspice, save_spice, write_spice
from neurosim.netlist import PWL, Netlist, Pulse, Sine, Subcircuit, crossbar_netlist
from neurosim.solve import LinearSolver, ac, dc, dc_sweep, quasistatic, transient
# --- crossbar (issue 5) ---
from neurosim.crossbar import ADC, DAC, CostModel, Crossbar, CrossbarConfig, Programming  # noqa: E402
# --- analog / study / tasks (issue 6) ---
from neurosim.analog import AnalogActivation, HardwareConfig, to_analog, to_digital  # noqa: E402
from neurosim.study import Comparison, compare  # noqa: E402
from neurosim.study.spec import load_study  # noqa: E402
# --- deployment time (issue 15) ---
from neurosim.devices import (GateControlledRRAM, LinearConductance, PCMDrift, PCMProgrammingNoise,  # noqa: E402
                              PCMReadNoise, pcm_nonidealities)
from neurosim.crossbar import deployment_reads  # noqa: E402
from neurosim.study import deployment_table, plot_deployment  # noqa: E402
# --- training (issue 11) ---
from neurosim.train import (  # noqa: E402
    SGD,
    Adam,
    RMSprop,
    SequenceModel,
    TrainingError,
    asymmetry_curve,
    bptt,
    ctc_beam_search,
    ctc_greedy_decode,
    ctc_loss,
    fit,
    genetic_algorithm,
    hardware_aware_fit,
    insitu_fit,
    particle_swarm,
    plot_asymmetry_curve,
    rtrl,
    simulated_annealing,
    truncated_bptt,
)
# --- dynamics (issue 12) ---
from neurosim.dynamics import (  # noqa: E402
    CTRNN,
    MTRNN,
    CaravelliMemristor,
    LiquidStateMachine,
    MemristiveSTDP,
    MemristiveNetwork,
    ctrnn_circuit,
    fixed_points,
    largest_lyapunov,
    latency_encode,
    poisson_encode,
)
# --- reservoir / memory (issue 13) ---
from neurosim.devices import VolatileMemristor  # noqa: E402
from neurosim.reservoir import ESN, DynamicReservoir, spectral_radius  # noqa: E402
from neurosim.memory import (  # noqa: E402
    BAM,
    Hopfield,
    StochasticHopfield,
    max_cut_brute_force,
    max_cut_weights,
    random_graph,
)
from neurosim.study.sweep import StudyResult, run_study  # noqa: E402
from neurosim.tasks import (  # noqa: E402
    RidgeReadout,
    SequenceTask,
    accuracy,
    adding_problem,
    copy_task,
    digits_rows,
    fit_ridge,
    mackey_glass,
    narma10,
    nrmse,
    rmse,
    sine_generation,
)

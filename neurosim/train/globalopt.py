r"""Global optimization of a whole network: genetic algorithm, simulated annealing, particle swarm.

One gene per weight, the whole network as one chromosome: the flat vector :math:`\theta` of every
parameter of the cell in ``state_dict`` order (:func:`flat_params`). The fitness is the reciprocal of
the mean-squared error over the training sequences,

.. math:: f(\theta) = 1 / \mathrm{MSE}(\theta), \qquad
    \mathrm{MSE}(\theta) = \frac{1}{|\mathcal M|} \sum_{(t,b) \in \mathcal M} \lVert y_{tb}(\theta) - d_{tb} \rVert^2 / F

and a search stops on an error target, on a fraction of the training sequences learnt (their own
MSE below ``learnt_mse``), or on a generation limit.

The population is evaluated in one pass through the cell (:func:`population_mse`): its step function
runs with a population axis folded into the batch, the weights of every individual stacked
(``(P, out, in)``) and read by a population ops object, the biases expanded per row; there is no
Python loop over individuals.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neurosim.cells.base import DirectionParams
from neurosim.cells.ops import DIGITAL
from neurosim.errors import ParameterError
from neurosim.seeding import check_seed, rng as seeded_rng

__all__ = ["flat_params", "set_flat", "population_mse", "PopulationOps", "SearchResult",
           "genetic_algorithm", "simulated_annealing", "particle_swarm"]


def flat_params(cell) -> np.ndarray:
    """Every parameter of ``cell`` as one float64 vector (``state_dict`` order).

    Examples
    --------
    >>> from neurosim.cells import Elman
    >>> flat_params(Elman(1, 3, 1)).shape  # 3 + 9 + 3 + 3 + 1
    (19,)
    """
    return np.concatenate([v.reshape(-1).astype(np.float64) for v in cell.params.values()])


def set_flat(cell, theta) -> None:
    """Write a flat vector back into the cell's parameters (in place)."""
    theta = np.asarray(theta)
    n = sum(v.size for v in cell.params.values())
    if theta.shape != (n,):
        raise ParameterError(f"set_flat: theta must have shape ({n},), got {theta.shape}")
    i = 0
    for v in cell.params.values():
        v[...] = theta[i:i + v.size].reshape(v.shape)
        i += v.size


class PopulationOps:
    """Ops whose weights carry a leading population axis: ``X`` rows are ``(P * batch)``, ``W`` is
    ``(P, out, in)``; each individual's rows meet its own weights (one batched GEMM)."""

    def __init__(self, P: int):
        self.P = P
        self._served = {}

    def serve(self, name, X_all, Y_all):
        """Answer ``matmul(name, W, X_all[t])`` with ``Y_all[t]`` (the input projection of all steps,
        computed by the caller in one batched product)."""
        self._served[name] = (X_all, Y_all)

    def matmul(self, name, W, X, out=None):
        P = self.P
        served = self._served.get(name)
        if served is not None:
            X_all, Y_all = served
            row = X_all[0].nbytes
            t, rem = divmod(X.ctypes.data - X_all.ctypes.data, row)
            if rem == 0 and 0 <= t < len(X_all) and X.shape == X_all.shape[1:] and X.strides == X_all.strides[1:]:
                return Y_all[t].copy()
        Y = np.matmul(X.reshape(P, -1, X.shape[-1]), W.transpose(0, 2, 1))
        return Y.reshape(X.shape[:-1] + (W.shape[1],))

    def scale(self, name, u, X, out=None):
        P = self.P
        return (X.reshape(P, -1, X.shape[-1]) * u[:, None, :]).reshape(X.shape)

    def bilinear(self, name, W, h, x, out=None):
        hx = (h[:, :, None] * x[:, None, :]).reshape(h.shape[0], -1)
        return self.matmul(name, W.reshape(W.shape[0], W.shape[1], -1), hx)

    def activation(self, kind, x, out=None):
        return DIGITAL.activation(kind, x, out)


def _population_params(cell, pop, B):
    """Per layer-direction DirectionParams with population-stacked weights and row-expanded biases."""
    P = pop.shape[0]
    out = {}
    i = 0
    chunks = {}
    for k, v in cell.params.items():
        chunks[k] = pop[:, i:i + v.size].reshape((P,) + v.shape).astype(cell.dtype)
        i += v.size
    weights = set(cell.weight_info())
    for layer in range(cell.num_layers):
        for d in range(cell.num_directions):
            dp = cell.direction_params(layer, d)
            items = {}
            for g in dp:
                a = chunks[g + dp.suffix]
                if g + dp.suffix in weights and a.ndim == 3:
                    # a (P, out, in) view of a contiguous (P, in, out) array: the batched product
                    # X @ W^T then runs on contiguous operands (several times faster for small matrices)
                    items[g] = np.ascontiguousarray(a.transpose(0, 2, 1)).transpose(0, 2, 1)
                elif g + dp.suffix in weights and a.ndim > 3:
                    items[g] = a
                elif a.ndim == 2 and g + dp.suffix in weights:  # element-wise weight (IndRNN u): (P, H)
                    items[g] = a
                else:  # a bias: one row per (individual, sequence)
                    items[g] = np.repeat(a, B, axis=0)
            out[(layer, d)] = DirectionParams(items, layer, d)
    return out


def population_outputs(cell, pop, inputs) -> np.ndarray:
    """Outputs ``(P, time, batch, out)`` of every individual of ``pop (P, n_params)`` on ``inputs``."""
    pop = np.atleast_2d(np.asarray(pop, dtype=np.float64))
    P = pop.shape[0]
    x = np.asarray(inputs, dtype=cell.dtype)
    T, B, _ = x.shape
    params = _population_params(cell, pop, B)
    ops = PopulationOps(P)
    layer_in = np.ascontiguousarray(np.broadcast_to(x[:, None], (T, P, B, x.shape[-1]))).reshape(T, P * B, -1)
    for layer in range(cell.num_layers):
        outs = []
        for d in range(cell.num_directions):
            state = tuple(np.zeros((P * B, s), dtype=cell.dtype) for s in cell._state_sizes())
            p = params[(layer, d)]
            if "weight_ih" in p:  # every step's input projection in one batched product
                W = p["weight_ih"]
                Y_all = np.matmul(layer_in.reshape(T, P, B, -1).transpose(1, 0, 2, 3).reshape(P, T * B, -1),
                                  W.transpose(0, 2, 1))
                ops.serve("weight_ih" + p.suffix, layer_in,
                          Y_all.reshape(P, T, B, -1).transpose(1, 0, 2, 3).reshape(T, P * B, -1))
            ys = None
            for t in (range(T - 1, -1, -1) if d else range(T)):
                y, state = cell.step(p, layer_in[t], state, ops=ops)
                y = y[0] if isinstance(y, tuple) else y
                if ys is None:
                    ys = np.empty((T,) + y.shape, dtype=cell.dtype)
                ys[t] = y
            outs.append(ys)
        layer_in = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=-1)
        ops._served.clear()
    return layer_in.reshape(T, P, B, -1).transpose(1, 0, 2, 3)


def population_mse(cell, pop, inputs, targets, mask=None, per_sequence=False) -> np.ndarray:
    """Mean-squared error of every individual (shape ``(P,)``; ``(P, batch)`` with ``per_sequence``).

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.cells import Elman
    >>> net = Elman(1, 3, 1, dtype=np.float64, seed=0)
    >>> x, d = np.ones((5, 2, 1)), np.zeros((5, 2, 1))
    >>> mse = population_mse(net, np.stack([flat_params(net)] * 2), x, d)
    >>> bool(np.isclose(mse[0], np.mean(net(x)[0][0] ** 2)))
    True
    """
    Y = population_outputs(cell, pop, inputs)
    T, B = Y.shape[1:3]
    m = np.ones((T, B), bool) if mask is None else np.asarray(mask, bool)
    with np.errstate(over="ignore", invalid="ignore"):
        se = ((Y - np.asarray(targets)[None]) ** 2).mean(axis=-1) * m[None]
        if per_sequence:
            return se.sum(axis=1) / np.maximum(m.sum(axis=0), 1)[None]
        mse = se.sum(axis=(1, 2)) / m.sum()
    return np.where(np.isfinite(mse), mse, np.inf)


@dataclasses.dataclass
class SearchResult:
    """Outcome of a global search.

    Attributes
    ----------
    theta : ndarray
        Best parameter vector (also written into the cell).
    mse : float
        Its training MSE (fitness = 1 / mse).
    history : ndarray
        Best MSE after every generation (iteration).
    generations : int
    reason : str
        ``"error target"``, ``"fraction learnt"`` or ``"generation limit"``.
    evaluations : int
        Networks evaluated.
    """

    theta: np.ndarray
    mse: float
    history: np.ndarray
    generations: int
    reason: str
    evaluations: int


def _check_common(owner, task, generations, error_target, learnt_fraction, population):
    for name, v in (("generations", generations), ("population", population)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ParameterError(f"{owner}: {name} must be an integer >= 1, got {v!r}")
    if error_target is not None and not error_target > 0:
        raise ParameterError(f"{owner}: error_target must be > 0 or None, got {error_target!r}")
    if learnt_fraction is not None and not 0 < learnt_fraction <= 1:
        raise ParameterError(f"{owner}: learnt_fraction must be in (0, 1] or None, got {learnt_fraction!r}")


class _Stop:
    def __init__(self, cell, task, error_target, learnt_fraction, learnt_mse):
        self.cell, self.task = cell, task
        self.error_target, self.learnt_fraction, self.learnt_mse = error_target, learnt_fraction, learnt_mse

    def evaluate(self, pop):
        return population_mse(self.cell, pop, self.task.inputs, self.task.targets, self.task.mask)

    def reason(self, theta, mse):
        if self.error_target is not None and mse <= self.error_target:
            return "error target"
        if self.learnt_fraction is not None:
            per = population_mse(self.cell, theta[None], self.task.inputs, self.task.targets, self.task.mask, True)[0]
            if np.mean(per <= self.learnt_mse) >= self.learnt_fraction:
                return "fraction learnt"
        return None


def genetic_algorithm(cell, task, *, population=64, generations=200, elite=2, tournament=3, crossover=0.9,
                      mutation_rate=0.1, mutation_scale=0.1, error_target=None, learnt_fraction=None,
                      learnt_mse=0.01, init_scale=None, seed=0) -> SearchResult:
    r"""Genetic algorithm over the flat parameter vector (one gene per weight).

    Each generation: the ``elite`` best survive unchanged; parents are chosen by tournaments of size
    ``tournament`` on fitness :math:`1/\mathrm{MSE}`; children take each gene from either parent
    (uniform crossover, probability ``crossover``) and each gene mutates with probability
    ``mutation_rate`` by :math:`\mathcal N(0, \text{mutation\_scale}^2)`.

    Parameters
    ----------
    cell : RecurrentBase
        Its parameters start the search (individual 0) and receive the best result.
    task : SequenceTask
        Training sequences (inputs, targets, mask).
    population, generations, elite, tournament : int
    crossover, mutation_rate, mutation_scale : float
    error_target : float, optional
        Stop when the best MSE is at most this.
    learnt_fraction, learnt_mse : float, optional
        Stop when this fraction of the training sequences has a sequence MSE at most ``learnt_mse``.
    init_scale : float, optional
        Initial population: the cell's vector plus :math:`\mathcal N(0, s^2)` (default ``mutation_scale * 5``).
    seed : int

    Returns
    -------
    SearchResult

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.cells import Elman
    >>> from neurosim.tasks import sine_generation
    >>> task = sine_generation(n_steps=40, batch_size=2, washout=5, seed=0)
    >>> res = genetic_algorithm(Elman(1, 3, 1, dtype=np.float64), task, population=8, generations=3)
    >>> res.generations, res.reason
    (3, 'generation limit')
    """
    owner = "genetic_algorithm"
    _check_common(owner, task, generations, error_target, learnt_fraction, population)
    r = seeded_rng(check_seed(owner, seed), "ga")
    stop = _Stop(cell, task, error_target, learnt_fraction, learnt_mse)
    theta0 = flat_params(cell)
    n = theta0.size
    s0 = mutation_scale * 5 if init_scale is None else init_scale
    pop = theta0 + r.normal(size=(population, n)) * s0
    pop[0] = theta0
    mse = stop.evaluate(pop)
    evals = population
    hist = []
    reason = "generation limit"
    g = 0
    for g in range(1, generations + 1):
        order = np.argsort(mse)
        fit = 1.0 / mse
        n_child = population - elite
        cand = r.integers(0, population, size=(2, n_child, tournament))
        parents = np.take_along_axis(cand, np.argmax(fit[cand], axis=-1)[..., None], -1)[..., 0]
        a, b = pop[parents[0]], pop[parents[1]]
        take = (r.random((n_child, n)) < 0.5) & (r.random((n_child, 1)) < crossover)
        child = np.where(take, b, a)
        mut = r.random((n_child, n)) < mutation_rate
        child = child + mut * r.normal(size=(n_child, n)) * mutation_scale
        pop = np.concatenate([pop[order[:elite]], child])
        mse = np.concatenate([mse[order[:elite]], stop.evaluate(child)])
        evals += n_child
        best = int(np.argmin(mse))
        hist.append(float(mse[best]))
        why = stop.reason(pop[best], mse[best])
        if why:
            reason = why
            break
    best = int(np.argmin(mse))
    set_flat(cell, pop[best])
    return SearchResult(pop[best].copy(), float(mse[best]), np.array(hist), g, reason, evals)


def simulated_annealing(cell, task, *, chains=16, generations=500, t0=0.1, cooling=0.99, step=0.05,
                        error_target=None, learnt_fraction=None, learnt_mse=0.01, seed=0) -> SearchResult:
    r"""Simulated annealing of ``chains`` independent chains, evaluated together.

    Each iteration proposes :math:`\theta' = \theta + \mathcal N(0, \text{step}^2)` for every chain
    and accepts with the Metropolis probability on the MSE,

    .. math:: P(\text{accept}) = \min\big(1, e^{-(\mathrm{MSE}(\theta') - \mathrm{MSE}(\theta)) / T_k}\big),
        \qquad T_k = t_0\, \text{cooling}^k

    Parameters
    ----------
    cell, task, generations, error_target, learnt_fraction, learnt_mse, seed
        As for :func:`genetic_algorithm` (``generations`` = iterations).
    chains : int
        Parallel chains (the population axis).
    t0, cooling, step : float

    Returns
    -------
    SearchResult
    """
    owner = "simulated_annealing"
    _check_common(owner, task, generations, error_target, learnt_fraction, chains)
    r = seeded_rng(check_seed(owner, seed), "sa")
    stop = _Stop(cell, task, error_target, learnt_fraction, learnt_mse)
    theta0 = flat_params(cell)
    cur = theta0 + r.normal(size=(chains, theta0.size)) * step
    cur[0] = theta0
    e = stop.evaluate(cur)
    best_i = int(np.argmin(e))
    best, best_e = cur[best_i].copy(), float(e[best_i])
    hist, reason, evals, k = [], "generation limit", chains, 0
    T = t0
    for k in range(1, generations + 1):
        prop = cur + r.normal(size=cur.shape) * step
        ep = stop.evaluate(prop)
        evals += chains
        with np.errstate(over="ignore", invalid="ignore"):
            accept = r.random(chains) < np.exp(np.minimum(0.0, -(ep - e) / T))
        cur[accept], e[accept] = prop[accept], ep[accept]
        i = int(np.argmin(e))
        if e[i] < best_e:
            best, best_e = cur[i].copy(), float(e[i])
        hist.append(best_e)
        T *= cooling
        why = stop.reason(best, best_e)
        if why:
            reason = why
            break
    set_flat(cell, best)
    return SearchResult(best, best_e, np.array(hist), k, reason, evals)


def particle_swarm(cell, task, *, particles=32, generations=200, inertia=0.7298, c_personal=1.49618,
                   c_social=1.49618, init_scale=0.5, error_target=None, learnt_fraction=None, learnt_mse=0.01,
                   seed=0) -> SearchResult:
    r"""Particle swarm optimization (constriction coefficients of Clerc & Kennedy 2002).

    .. math::
        v \leftarrow w v + c_1 r_1 (p_{best} - \theta) + c_2 r_2 (g_{best} - \theta), \qquad
        \theta \leftarrow \theta + v

    Parameters
    ----------
    cell, task, generations, error_target, learnt_fraction, learnt_mse, seed
        As for :func:`genetic_algorithm`.
    particles : int
    inertia, c_personal, c_social : float
    init_scale : float
        Spread of the initial swarm around the cell's vector.

    Returns
    -------
    SearchResult
    """
    owner = "particle_swarm"
    _check_common(owner, task, generations, error_target, learnt_fraction, particles)
    r = seeded_rng(check_seed(owner, seed), "pso")
    stop = _Stop(cell, task, error_target, learnt_fraction, learnt_mse)
    theta0 = flat_params(cell)
    x = theta0 + r.normal(size=(particles, theta0.size)) * init_scale
    x[0] = theta0
    v = r.normal(size=x.shape) * init_scale * 0.1
    e = stop.evaluate(x)
    pbest, pbest_e = x.copy(), e.copy()
    gi = int(np.argmin(e))
    hist, reason, evals, k = [], "generation limit", particles, 0
    for k in range(1, generations + 1):
        g = pbest[gi]
        v = inertia * v + c_personal * r.random(x.shape) * (pbest - x) + c_social * r.random(x.shape) * (g - x)
        x = x + v
        e = stop.evaluate(x)
        evals += particles
        better = e < pbest_e
        pbest[better], pbest_e[better] = x[better], e[better]
        gi = int(np.argmin(pbest_e))
        hist.append(float(pbest_e[gi]))
        why = stop.reason(pbest[gi], pbest_e[gi])
        if why:
            reason = why
            break
    set_flat(cell, pbest[gi])
    return SearchResult(pbest[gi].copy(), float(pbest_e[gi]), np.array(hist), k, reason, evals)

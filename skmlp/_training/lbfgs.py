"""Full-batch L-BFGS on the network's flat parameter buffer.

SciPy's L-BFGS-B works on one flat float64 vector, which is exactly how the
network stores its weights: each evaluation copies SciPy's ``x`` into
``network.params`` once and hands back ``network.grads`` as the gradient, with
no per-layer packing or unpacking.
"""

import numpy as np
import scipy.optimize

from .callbacks import NO_STEPS


class LbfgsRun:
    """What one L-BFGS run did.

    Attributes
    ----------
    result : scipy.optimize.OptimizeResult or None
        SciPy's result; None when the run was interrupted.
    loss_curve : list of float
        Loss after each finished iteration.
    interrupted : bool
        Whether a ``KeyboardInterrupt`` stopped the run; the network then holds
        the weights of the last finished iteration.
    stopped_by_callback : bool
        Whether a callback stopped the run after an iteration (SciPy's result
        then says that the callback raised ``StopIteration``).
    """

    def __init__(self):
        self.result = None
        self.loss_curve = []
        self.interrupted = False
        self.stopped_by_callback = False


def minimize_lbfgs(
    network,
    X,
    Y,
    sample_weight,
    *,
    max_iter,
    max_fun,
    tol,
    verbose=False,
    steps=NO_STEPS,
):
    """Minimise the full-batch loss of ``network`` on ``(X, Y)`` with L-BFGS-B,
    starting from (and leaving the solution in) ``network.params``.

    The objective is :meth:`Network.loss_gradient`'s: the (weighted) mean loss
    plus the network's penalty. ``max_iter``, ``max_fun`` and ``tol`` are SciPy's
    ``maxiter``, ``maxfun`` and ``gtol``, as in scikit-learn. A
    ``KeyboardInterrupt`` stops the run and keeps the weights of the last
    finished iteration (``run.interrupted`` tells).

    ``steps`` (see :class:`~.callbacks.Steps`) is told where each iteration begins
    and ends, as LogisticRegression tells its callbacks: SciPy reports only
    the end of an iteration, so the next one begins there, and the one begun
    after the last is closed as an empty task. When ``steps`` says to stop,
    the network keeps that iteration's weights.

    Returns
    -------
    run : LbfgsRun
    """
    backend = network.backend
    run = LbfgsRun()
    # Copied, so that writing the evaluated points into params cannot change
    # the start point SciPy remembers.
    start = np.array(backend.to_host(network.params), dtype=np.float64)
    last_finished = start.copy()

    def loss_and_gradient(x):
        network.params[...] = backend.to_device(x)
        loss = network.loss_gradient(X, Y, sample_weight)
        # SciPy copies the gradient to float64 before the next evaluation
        # overwrites grads, so the buffer itself can be returned.
        return float(loss), backend.to_host(network.grads)

    def after_iteration(intermediate_result):
        last_finished[...] = intermediate_result.x
        run.loss_curve.append(float(intermediate_result.fun))
        if verbose:
            print(f"Iteration {len(run.loss_curve)}, loss = {run.loss_curve[-1]:.8f}")
        if steps.end(intermediate_result.x, len(run.loss_curve)):
            run.stopped_by_callback = True
            raise StopIteration  # SciPy ends the run with this iterate
        steps.begin(intermediate_result.x, len(run.loss_curve))

    steps.begin(start, 0)
    try:
        run.result = scipy.optimize.minimize(
            loss_and_gradient,
            start,
            method="L-BFGS-B",
            jac=True,
            callback=after_iteration,
            options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
        )
        solution = run.result.x
        steps.close()
    except KeyboardInterrupt:
        run.interrupted = True
        solution = last_finished
    network.params[...] = backend.to_device(solution)
    return run

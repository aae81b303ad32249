"""Stochastic optimizers, updating the flat parameter buffer in place.

Each optimizer keeps only its defining state (velocity, moment estimates, step
count) as arrays shaped like ``params``; ``scratch`` is a caller-owned
temporary of the same shape, so a step allocates nothing. The learning rate is
passed to every step, because the schedule owns it.
"""

import math
from numbers import Integral

import numpy as np


class Optimizer:
    """What the optimizers share. Each states, besides its array ``step``,
    the arguments of the fused kernel that does the same step in one pass
    (``kernel_arguments(learning_rate)``: the kernel's name in
    :data:`skmlp._kernels.specs.OPTIMIZER_STEPS`, its scalars and its state
    buffers), advancing its counters as ``step`` does."""

    # Arrays shaped like the parameters, and scalar counters: the state that
    # warm_start / partial_fit carry from one call to the next.
    state_names = ()
    counter_names = ()

    def continue_from(self, previous):
        """Take over the state of ``previous`` (an optimizer of the same kind),
        keeping this one's hyper-parameters."""
        for name in self.state_names + self.counter_names:
            setattr(self, name, getattr(previous, name))

    def prepare(self, params, backend):
        """Create or move the state to match ``params`` (backend and dtype)."""
        for name in self.state_names:
            state = getattr(self, name, None)
            if state is None:
                state = backend.xp.zeros_like(params)
            elif state.shape != params.shape:
                raise ValueError(
                    f"The optimizer state has {state.shape[0]} entries but the "
                    f"network has {params.shape[0]} parameters."
                )
            state = backend.to_device(state, params.dtype)
            # Steps update the state in place; one loaded read-only (joblib's
            # mmap_mode) is copied first. (CuPy's flags have no writeable.)
            if not getattr(state.flags, "writeable", True):
                state = state.copy()
            setattr(self, name, state)

    def get_state(self):
        """The state as plain values -- the optimizer's ``name``, its arrays
        (NumPy, or None before the first step) and counters -- which is what
        a saved model keeps of it (:func:`optimizer_from_state` rebuilds it).
        The hyper-parameters are the estimator's, set again at every fit."""
        names = self.state_names + self.counter_names
        return {"name": self.name, **{name: getattr(self, name) for name in names}}

    def to_host(self, backend):
        """Move the state to NumPy arrays (for pickling). State not made yet
        (a fit that failed before ``prepare`` finished) stays None, so the
        next call makes it afresh."""
        for name in self.state_names:
            state = getattr(self, name)
            if state is not None:
                setattr(self, name, backend.to_host(state))


class SGD(Optimizer):
    """SGD with momentum: ``v <- momentum v - lr g``, then ``p <- p + v``, or
    with Nesterov's momentum ``p <- p + momentum v - lr g`` (scikit-learn's
    formulation)."""

    name = "sgd"
    state_names = ("velocity",)

    def __init__(self, momentum=0.9, nesterov=True):
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocity = None

    def kernel_arguments(self, learning_rate):
        name = "nesterov" if self.nesterov else "momentum"
        return name, (self.momentum, learning_rate), (self.velocity,)

    def step(self, params, grads, learning_rate, scratch):
        velocity = self.velocity
        step = scratch
        velocity *= self.momentum
        _scaled(grads, learning_rate, out=step)
        velocity -= step
        if self.nesterov:
            params -= step
            _scaled(velocity, self.momentum, out=step)
            params += step
        else:
            params += velocity


class Adam(Optimizer):
    """Adam (Kingma & Ba): ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
    ``p <- p - lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps)``.

    With ``amsgrad``, the AMSGrad variant (Reddi et al.) as PyTorch defines
    it: the denominator uses ``v_max <- max(v_max, v)``, the running maximum
    of the (uncorrected) second moment, with the same bias correction, so
    that the effective step size never grows."""

    name = "adam"
    counter_names = ("t",)

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8, amsgrad=False):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self.first_moment = None
        self.second_moment = None
        # Kept (as None) without amsgrad too, so that turning it on in a
        # continued fit starts the maximum afresh from the next step's v.
        self.max_second_moment = None
        self.t = 0

    @property
    def state_names(self):
        moments = ("first_moment", "second_moment")
        return (*moments, "max_second_moment") if self.amsgrad else moments

    def _next_rate(self, learning_rate):
        """Count the step, and return the learning rate with both bias
        corrections folded in."""
        self.t += 1
        return (
            learning_rate
            * math.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )

    def kernel_arguments(self, learning_rate):
        rate = self._next_rate(learning_rate)
        scalars = (self.beta_1, self.beta_2, self.epsilon, rate)
        moments = (self.first_moment, self.second_moment)
        if self.amsgrad:
            return "amsgrad", scalars, (*moments, self.max_second_moment)
        return "adam", scalars, moments

    def step(self, params, grads, learning_rate, scratch):
        corrected_rate = self._next_rate(learning_rate)
        m, v = self.first_moment, self.second_moment
        m *= self.beta_1
        _scaled(grads, 1 - self.beta_1, out=scratch)
        m += scratch
        _average_squares(v, grads, self.beta_2, scratch)
        if self.amsgrad:
            v = _maximum(self.max_second_moment, v, out=self.max_second_moment)
        _divided_step(params, m, v, self.epsilon, corrected_rate, scratch)


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton; PyTorch's form): ``v <- rho v + (1-rho) g^2``,
    ``p <- p - lr g / (sqrt(v) + eps)``."""

    name = "rmsprop"
    state_names = ("square_average",)

    def __init__(self, rho=0.9, epsilon=1e-8):
        self.rho = rho
        self.epsilon = epsilon
        self.square_average = None

    def kernel_arguments(self, learning_rate):
        return (
            "rmsprop",
            (self.rho, self.epsilon, learning_rate),
            (self.square_average,),
        )

    def step(self, params, grads, learning_rate, scratch):
        v = self.square_average
        _average_squares(v, grads, self.rho, scratch)
        _divided_step(params, grads, v, self.epsilon, learning_rate, scratch)


# The steps Adam and RMSprop share, in the operation order of their kernels.
def _average_squares(v, grads, decay, scratch):
    """``v <- decay v + (1 - decay) g^2``."""
    _squared(grads, out=scratch)
    scratch *= 1 - decay
    v *= decay
    v += scratch


def _divided_step(params, numerator, v, epsilon, rate, scratch):
    """``p <- p - numerator / (sqrt(v) + epsilon) * rate``."""
    _root(v, out=scratch)
    scratch += epsilon
    _divide(numerator, scratch, out=scratch)
    scratch *= rate
    params -= scratch


# Ufuncs called through the array's own namespace, so that NumPy and CuPy
# arrays both stay on their device and no module is stored on the optimizer.
def _namespace(array):
    if type(array).__module__.startswith("cupy"):
        import cupy

        return cupy
    return np


def _scaled(a, factor, out):
    return _namespace(a).multiply(a, factor, out=out)


def _squared(a, out):
    return _namespace(a).square(a, out=out)


def _root(a, out):
    return _namespace(a).sqrt(a, out=out)


def _divide(a, b, out):
    return _namespace(a).divide(a, b, out=out)


def _maximum(a, b, out):
    return _namespace(a).maximum(a, b, out=out)


OPTIMIZERS = {cls.name: cls for cls in (SGD, Adam, RMSprop)}


def refuse_unknown_state(owner, unknown):
    """Saved state this version does not know would be dropped, giving a
    different model: refuse it."""
    if unknown:
        raise ValueError(
            f"The saved {owner} has state {sorted(unknown)} that this version of "
            "skmlp does not know: load the model with the version that saved it."
        )


def optimizer_from_state(state, n_params):
    """The optimizer :meth:`Optimizer.get_state` described, for a network of
    ``n_params`` parameters, with default hyper-parameters (the estimator
    sets its own before the next step). State the saved model did not have
    (an older version's) starts afresh, as in a new optimizer; state this
    version does not know, or arrays that cannot be this network's, raise a
    ValueError rather than give a different model."""
    state = dict(state)
    name = state.pop("name", None)
    if name not in OPTIMIZERS:
        raise ValueError(
            f"The saved optimizer {name!r} is not one of {sorted(OPTIMIZERS)}: the "
            "file was saved by another version of skmlp, or is damaged."
        )
    optimizer = OPTIMIZERS[name]()
    # Every state attribute a new optimizer has, also those its
    # hyper-parameters leave unused by default (Adam's AMSGrad maximum).
    refuse_unknown_state(f"{name} optimizer", set(state) - set(vars(optimizer)))
    for key, value in state.items():
        if isinstance(value, np.ndarray) or key in optimizer.state_names:
            if value is not None and not (
                isinstance(value, np.ndarray)
                and value.dtype.kind == "f"
                and value.shape == (n_params,)
                and np.isfinite(value).all()
            ):
                raise ValueError(
                    f"The saved {name} optimizer's {key} is not a finite float "
                    f"vector of the network's {n_params} parameters: the file is "
                    "damaged, or its layers were changed."
                )
        elif key in optimizer.counter_names and not isinstance(value, Integral):
            raise ValueError(
                f"The saved {name} optimizer's {key} is {value!r}, not an integer: "
                "the file is damaged."
            )
        setattr(optimizer, key, value)
    return optimizer

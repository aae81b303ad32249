"""Optimizer steps run by the kernels of
:data:`skmlp._kernels.specs.OPTIMIZER_STEPS`, on either device."""

import math

from .._nn import SGD, Adam, RMSprop


def fused_step(optimizer, kernels):
    """``step(params, grads, learning_rate, scratch)`` running ``optimizer``'s
    update as one kernel from ``kernels`` (name -> kernel, as built from
    :data:`OPTIMIZER_STEPS`); the optimizer's own array step when it has no
    kernel. Scalars are worked out on the host, so nothing waits for the
    device."""
    arguments = _STEP_ARGUMENTS.get(type(optimizer))
    if arguments is None:
        return optimizer.step

    def step(params, grads, learning_rate, scratch):
        name, scalars, states = arguments(optimizer, learning_rate)
        kernels[name](grads, *scalars, params, *states)

    return step


def penalised_fused_step(optimizer, kernels, penalty, n_coefs):
    """``step(params, grads, learning_rate, scratch, total_weight)`` running
    ``optimizer``'s update with the gradient of the active ``penalty`` (a
    :class:`~skmlp._nn.penalties.Penalty`) of the weights ``params[:n_coefs]``
    folded in: one kernel of :meth:`ElementwiseKernels.penalised_step` over
    the weights, the plain one over the rest. ``grads`` lacks the penalty's
    gradient, and keeps lacking it. None where the optimizer has no kernel."""
    arguments = _STEP_ARGUMENTS.get(type(optimizer))
    if arguments is None:
        return None
    terms = penalty.terms

    def step(params, grads, learning_rate, scratch, total_weight):
        name, scalars, states = arguments(optimizer, learning_rate)
        rates = penalty.rates(total_weight)
        n = n_coefs
        kernels.penalised_step(name, terms)(
            grads[:n], *rates, *scalars, params[:n], *(state[:n] for state in states)
        )
        kernels.optimizer_steps[name](
            grads[n:], *scalars, params[n:], *(state[n:] for state in states)
        )

    return step


def _sgd_arguments(sgd, learning_rate):
    name = "nesterov" if sgd.nesterov else "momentum"
    return name, (sgd.momentum, learning_rate), (sgd.velocity,)


def _adam_arguments(adam, learning_rate):
    adam.t += 1
    # Bias corrections folded into the rate, as in Adam.step.
    rate = (
        learning_rate * math.sqrt(1 - adam.beta_2**adam.t) / (1 - adam.beta_1**adam.t)
    )
    states = (adam.first_moment, adam.second_moment)
    if adam.amsgrad:
        return "amsgrad", (adam.beta_1, adam.beta_2, adam.epsilon, rate), (
            *states,
            adam.max_second_moment,
        )
    return "adam", (adam.beta_1, adam.beta_2, adam.epsilon, rate), states


def _rmsprop_arguments(rmsprop, learning_rate):
    return (
        "rmsprop",
        (rmsprop.rho, rmsprop.epsilon, learning_rate),
        (rmsprop.square_average,),
    )


_STEP_ARGUMENTS = {
    SGD: _sgd_arguments,
    Adam: _adam_arguments,
    RMSprop: _rmsprop_arguments,
}

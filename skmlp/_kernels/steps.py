"""Optimizer steps run by the kernels of
:data:`skmlp._kernels.specs.OPTIMIZER_STEPS`, on either device."""


def _kernel_arguments(optimizer):
    """``optimizer.kernel_arguments``, where its own class states them: a
    subclass may change the step, which the kernel would then not compute."""
    if "kernel_arguments" not in vars(type(optimizer)):
        return None
    return optimizer.kernel_arguments


def fused_step(optimizer, kernels):
    """``step(params, grads, learning_rate, scratch)`` running ``optimizer``'s
    update as one kernel from ``kernels`` (name -> kernel, as built from
    :data:`~skmlp._kernels.specs.OPTIMIZER_STEPS`); the optimizer's own array step when it has no
    kernel. Scalars are worked out on the host, so nothing waits for the
    device."""
    arguments = _kernel_arguments(optimizer)
    if arguments is None:
        return optimizer.step

    def step(params, grads, learning_rate, scratch):
        name, scalars, states = arguments(learning_rate)
        kernels[name](grads, *scalars, params, *states)

    return step


def penalised_fused_step(optimizer, kernels, penalty, n_coefs, weight_decay=0.0):
    """``step(params, grads, learning_rate, scratch, total_weight)`` running
    ``optimizer``'s update with the gradient of the active ``penalty`` (a
    :class:`~skmlp._nn.penalties.Penalty`, or None) of the weights
    ``params[:n_coefs]`` folded in, and their decoupled ``weight_decay``
    (``p <- p * (1 - learning_rate * weight_decay)`` before the update, as
    ``torch.optim.AdamW``): one kernel of
    :meth:`~skmlp._kernels.specs.ElementwiseKernels.penalised_step` over
    the weights, the plain one over the rest. ``grads`` lacks the penalty's
    gradient, and keeps lacking it. None where the optimizer has no kernel."""
    arguments = _kernel_arguments(optimizer)
    if arguments is None:
        return None
    terms = () if penalty is None else penalty.terms
    decoupled = bool(weight_decay)

    def step(params, grads, learning_rate, scratch, total_weight):
        name, scalars, states = arguments(learning_rate)
        rates = penalty.rates(total_weight) if terms else ()
        # The schedule's current rate, not Adam's bias-corrected one: AdamW's.
        shrink = (1 - learning_rate * weight_decay,) if decoupled else ()
        n = n_coefs
        kernels.penalised_step(name, terms, decoupled)(
            grads[:n], *rates, *shrink, *scalars, params[:n],
            *(state[:n] for state in states),
        )
        kernels.optimizer_steps[name](
            grads[n:], *scalars, params[n:], *(state[n:] for state in states)
        )

    return step

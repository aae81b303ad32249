"""Parameter documentation shared by both estimators' docstrings."""

PARAMETERS = """\
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.

    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', \
'elu', 'gelu', 'silu'}, default='relu'
        Activation function of the hidden layers.

        - 'identity': ``f(z) = z``.
        - 'logistic': the sigmoid ``f(z) = 1 / (1 + exp(-z))``.
        - 'tanh': ``f(z) = tanh(z)``.
        - 'relu': ``f(z) = max(z, 0)``.
        - 'leaky_relu': ``z`` where ``z > 0``, else ``0.01 z`` (PyTorch's
          default slope). Not in scikit-learn.
        - 'elu': ``z`` where ``z > 0``, else ``exp(z) - 1`` (alpha 1).
          Not in scikit-learn.
        - 'gelu': ``z * Phi(z)``, ``Phi`` the standard normal distribution
          function, in the exact erf form (PyTorch's default, not the tanh
          approximation). Not in scikit-learn.
        - 'silu': ``z / (1 + exp(-z))`` (also called swish).
          Not in scikit-learn.

    solver : {'lbfgs', 'sgd', 'adam', 'rmsprop'}, default='adam'
        Optimizer of the weights.

        - 'lbfgs': full-batch L-BFGS (SciPy's L-BFGS-B), often faster and
          better on small datasets; no mini-batches, schedules or early
          stopping, and no ``partial_fit``.
        - 'sgd': stochastic gradient descent with ``momentum`` (Nesterov's
          when ``nesterovs_momentum``).
        - 'adam': Kingma and Ba's Adam with ``beta_1``, ``beta_2``, ``epsilon``.
        - 'rmsprop': RMSprop (PyTorch's form) with ``rho`` and ``epsilon``.
          Not in scikit-learn.

    alpha : float, default=0.0001
        Strength of the L2 penalty, divided by the batch size as in
        scikit-learn: each batch's loss gets ``alpha / (2 n) * ||W||^2``,
        ``n`` the sum of the batch's sample weights when they are given.

    l1 : float, default=0.0
        Strength of the L1 penalty on the weights (not the biases), beside
        ``alpha``'s L2 and scaled like it: each batch's loss gets
        ``l1 / n * sum |W|``, whose gradient ``l1 / n * sign(W)`` pulls every
        weight towards 0 by the same amount (0 at a weight of exactly 0).
        The stochastic solvers step across 0 rather than landing on it, so
        weights become small, not exactly 0. With 'lbfgs' the objective is
        not smooth at 0, which L-BFGS assumes: it still lowers the loss, but
        its gradient test rarely passes, so expect it to run to ``max_iter``
        (with a ConvergenceWarning). Not in scikit-learn.

    weight_decay : float, default=0.0
        Decoupled weight decay (Loshchilov and Hutter) of the weights, not
        the biases or batch normalization's scale and shift: every step
        first shrinks them, ``W <- W * (1 - lr * weight_decay)`` with ``lr``
        the schedule's current rate, then takes the solver's update. It is
        not a gradient, so Adam's and RMSprop's scaling leaves it alone
        (unlike ``alpha``): ``solver='adam'`` with ``weight_decay`` is
        ``torch.optim.AdamW``, and 'sgd' and 'rmsprop' decay the same
        decoupled way (PyTorch's SGD and RMSprop ``weight_decay`` is the
        coupled L2 penalty, our ``alpha``). Not with 'lbfgs' (use ``alpha``).
        Not in scikit-learn.

    batch_size : int or 'auto', default='auto'
        Size of the mini-batches; 'auto' means ``min(200, n_samples)``.
        Not used by 'lbfgs'.

    learning_rate : {'constant', 'invscaling', 'adaptive', 'step', 'cosine'}, \
default='constant'
        Learning-rate schedule, applied at the end of every epoch (before
        every step with ``schedule_unit='batch'``) and, unlike scikit-learn
        (where it only affects 'sgd'), for every solver; ``warmup`` adds a
        linear warmup to any of them.

        - 'constant': ``learning_rate_init`` throughout.
        - 'invscaling': ``learning_rate_init / (t + 1) ** power_t``, ``t`` the
          number of samples seen.
        - 'adaptive': when the stop rule fires (``n_iter_no_change`` epochs
          without a ``tol`` improvement), divide the rate by 5 and continue
          instead of stopping, until it is below 1e-6.
        - 'step': multiply the rate by ``gamma`` every ``step_size`` epochs
          (PyTorch's ``StepLR``). Not in scikit-learn.
        - 'cosine': cosine annealing from ``learning_rate_init`` towards 0
          over ``max_iter`` epochs, ``learning_rate_init * (1 + cos(pi * e /
          max_iter)) / 2`` in epoch ``e`` (PyTorch's ``CosineAnnealingLR``
          with ``T_max=max_iter``, ``eta_min=0``). Epochs count over every
          call, as for 'step': a warm-started ``fit`` or ``partial_fit``
          continues the curve, and past ``max_iter`` epochs a new cycle
          starts from ``learning_rate_init`` (``CosineAnnealingWarmRestarts``
          with ``T_0=max_iter``). Not in scikit-learn.

    learning_rate_init : float, default=0.001
        The initial learning rate.

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.

    max_iter : int, default=200
        Maximum number of epochs of one call to ``fit`` ('lbfgs': of
        iterations).

    shuffle : bool, default=True
        Whether to shuffle the samples at every epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the validation split and the shuffling.
        Pass an int for reproducible results. ``partial_fit`` keeps drawing
        from one stream rather than re-seeding at every call.

    tol : float, default=1e-4
        Improvement of the training loss (or validation score with
        ``early_stopping``) under which an epoch counts as no improvement.
        A NaN loss or score (diverged training) counts as no improvement.
        For 'lbfgs': the projected-gradient tolerance (SciPy's ``gtol``).

    verbose : bool, default=False
        Print the loss of every epoch (of every iteration for 'lbfgs').

    warm_start : bool, default=False
        Continue from the current weights at the next ``fit``. Unlike
        scikit-learn, the optimizer state (momentum, Adam's moments, the
        schedule's progress) is kept too; changed learning-rate parameters
        take effect from the next epoch.

    momentum : float, default=0.9
        Momentum of 'sgd', in [0, 1].

    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with 'sgd'.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified for binary
        and multiclass targets where every class can be on both sides), stop
        when its score (accuracy / R^2, or what ``scoring`` says) has not
        improved by ``tol`` for ``n_iter_no_change`` epochs, and keep the best
        weights. The validation score uses the held-out samples' weights
        (times their class weights). Ignored by 'lbfgs'.

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.

    beta_1 : float, default=0.9
        Decay of Adam's first-moment estimate, in [0, 1).

    beta_2 : float, default=0.999
        Decay of Adam's second-moment estimate, in [0, 1).

    epsilon : float, default=1e-8
        Numerical-stability term of Adam and RMSprop.

    n_iter_no_change : int, default=10
        Epochs without a ``tol`` improvement before the stop rule fires.

    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs' (SciPy's ``maxfun``).

    weight_init : {'auto', 'glorot_uniform', 'glorot_normal', 'he_uniform', \
'he_normal'}, default='auto'
        How the initial weights and biases are drawn (from ``random_state``).
        Not in scikit-learn.

        - 'auto': scikit-learn's draws, so a fit equals scikit-learn's:
          weights and biases uniform in ``+-sqrt(6 / (fan_in + fan_out))``
          (``+-sqrt(2 / (fan_in + fan_out))`` for 'logistic'), whatever the
          activation.
        - 'glorot_uniform', 'glorot_normal': Glorot (Xavier) weights of
          variance ``2 / (fan_in + fan_out)``, as in Keras and PyTorch;
          biases zero.
        - 'he_uniform', 'he_normal': He (Kaiming) weights of variance
          ``2 / fan_in``, suited to the ReLU family; biases zero.

        The uniform variants draw in ``+-sqrt(3 * variance)``, the normal
        ones from a normal distribution of that variance (PyTorch's; Keras
        truncates it).

    rho : float, default=0.9
        Decay of RMSprop's average of squared gradients, in [0, 1).
        Not in scikit-learn.

    step_size : int, default=10
        Epochs between two decays of the 'step' schedule. Not in scikit-learn.

    gamma : float, default=0.1
        Factor of each decay of the 'step' schedule. Not in scikit-learn.

    schedule_unit : {'epoch', 'batch'}, default='epoch'
        The clock of the learning-rate schedule. 'epoch' moves the rate at
        the end of every epoch. 'batch' evaluates 'cosine' and 'invscaling'
        before every step, with ``n`` steps per epoch (``n =
        ceil(n_training_rows / batch_size)``, the rows left after the
        ``early_stopping`` split): 'cosine' at the fractional epoch ``e + k /
        n`` of step ``k`` of epoch ``e``, PyTorch's ``CosineAnnealingLR(T_max
        = max_iter * n)`` stepped after every batch (restarting past it as
        ``CosineAnnealingWarmRestarts(T_0 = max_iter * n)``); 'invscaling'
        with ``t`` the samples trained on before the step. 'constant',
        'adaptive' and 'step' move on whole epochs or plateaus, so the unit
        changes nothing for them. Not with 'lbfgs'. Not in scikit-learn.

    warmup : float, default=0.0
        Epochs (a fraction allowed) of linear warmup: the first ``W =
        ceil(warmup * n)`` steps ``s = 0, ..., W - 1`` of training (counted
        over every ``partial_fit`` call and kept by ``warm_start``; a new
        ``fit`` starts again) take the schedule's rate times ``(s + 1) /
        W``. With any ``learning_rate`` and ``schedule_unit``: PyTorch's
        ``LinearLR(start_factor=1 / W, end_factor=1, total_iters=W - 1)``
        chained with the schedule (``ChainedScheduler``), stepped after every
        batch. For example, ``learning_rate='cosine', schedule_unit='batch',
        warmup=1`` with 10 batches per epoch takes 1/10, 2/10, ..., 10/10 of
        the cosine's rate in the first epoch's 10 steps, then the cosine
        alone. 0 (or a ``W`` of 1) warms nothing up. Not with 'lbfgs'. Not in
        scikit-learn.

    dropout : float or array-like of shape (n_layers - 2,), default=0.0
        Dropout rate of the hidden layers, each in [0, 1): one for all, or
        one per hidden layer. While training, each hidden unit's output is
        zeroed with this probability and the others are scaled by
        ``1 / (1 - rate)`` (inverted dropout); prediction never drops.
        Masks are drawn from ``random_state``'s stream (on the device with
        'cupy'). Needs a stochastic solver. Not in scikit-learn.

    batch_norm : bool, default=False
        Normalise each hidden layer's ``X @ W + b`` over the batch before its
        activation, with a learned scale and shift (unpenalised by
        ``alpha``; PyTorch's ``BatchNorm1d``, ``eps=1e-5``). Prediction uses
        running statistics, so each row's output depends on that row alone.
        With 'lbfgs' every evaluation normalises over all rows and the
        running statistics are those of all rows at the solution. Not in
        scikit-learn.

    batch_norm_momentum : float, default=0.1
        Weight of each batch in the running statistics (PyTorch's
        convention): ``running = (1 - momentum) * running + momentum *
        batch``, with the batch's unbiased variance. In (0, 1].
    amsgrad : bool, default=False
        Use the AMSGrad variant of 'adam' (Reddi et al., as PyTorch's
        ``Adam(amsgrad=True)``): the step divides by the running maximum of
        the second-moment estimate, so no parameter's effective step size
        ever grows. Ignored by the other solvers. Not in scikit-learn.

    scoring : str, callable or None, default=None
        What ``early_stopping`` watches on the held-out rows; ignored without
        it. Not in scikit-learn's MLP.

        - None: the estimator's ``score`` (accuracy / R^2), as scikit-learn.
        - 'loss': the held-out loss, the training loss without the L2 term.
          Lower is better: ``validation_scores_`` records the loss itself
          and ``best_validation_score_`` is its minimum.
        - a scorer name from ``sklearn.metrics.get_scorer_names()``, or a
          callable ``scorer(estimator, X, y)`` returning a higher-is-better
          float (``make_scorer`` flips losses, as in 'neg_log_loss'). It is
          called after every epoch with the estimator predicting with that
          epoch's weights, ``X`` and ``y`` the held-out rows (``X`` as the
          validated NumPy array or CSR matrix), and ``sample_weight=`` their
          weights when ``fit`` has sample or class weights.

    clip_grad_norm : float or None, default=None
        Before each step of a stochastic solver, scale the gradient (every
        layer's together, penalty included) so that its L2 norm is at most
        this: times ``min(1, clip_grad_norm / (norm + 1e-6))``, as
        ``torch.nn.utils.clip_grad_norm_``. Guards against the occasional
        huge gradient that throws training off (a too-high learning rate, an
        outlier batch). None clips nothing. 'lbfgs' raises a ValueError:
        its line search sets its own step lengths. Not in scikit-learn.

    backend : {'numpy', 'cupy', 'auto'}, default='numpy'
        Where the network trains and predicts. Not in scikit-learn.

        - 'numpy': on the CPU.
        - 'cupy': on an NVIDIA GPU through CuPy (``pip install skmlp[gpu]``).
          The training data is uploaded once, shuffled and batched on the
          device, and the elementwise work runs in fused CUDA kernels.
        - 'auto': 'cupy' where CuPy imports and finds a CUDA device, else
          'numpy'.

        Initial weights come from ``random_state`` on the host for every
        backend, so with ``shuffle=False`` both backends train the same model
        up to float rounding; with shuffling the GPU draws its own sample
        order (reproducible from ``random_state``, but not NumPy's). The
        fitted model holds only NumPy arrays: it pickles, and loads and
        predicts without CuPy (``predict`` falls back to NumPy with a
        warning; ``set_params(backend='numpy')`` moves it to the CPU).
"""

ATTRIBUTES = """\
    loss_ : float
        Training loss of the last epoch (mean over samples, L2 and L1 terms
        included).

    best_loss_ : float or None
        Lowest training loss reached; None with ``early_stopping``.

    loss_curve_ : list of float
        Training loss of every epoch ('lbfgs': after every iteration of the
        last ``fit``).

    validation_scores_ : list of float or None
        Validation score of every epoch with ``early_stopping`` (what
        ``scoring`` watches), else None.

    best_validation_score_ : float or None
        Best validation score with ``early_stopping`` (the lowest for
        ``scoring='loss'``, else the highest), else None.

    t_ : int
        Number of training samples seen by the stochastic solvers.

    coefs_ : list of ndarray of shape (n_fan_in, n_fan_out)
        Weight matrix of each layer. Assigning new arrays changes what
        ``predict`` returns and where ``partial_fit`` / ``warm_start`` continue.

    intercepts_ : list of ndarray of shape (n_fan_out,)
        Bias vector of each layer (assignable like ``coefs_``).

    batch_norm_scales_ : list of ndarray of shape (n_units,)
        Learned scale of each hidden layer's batch normalization (an empty
        list without ``batch_norm``). Assignable like ``coefs_``.

    batch_norm_shifts_ : list of ndarray of shape (n_units,)
        Learned shift of each hidden layer's batch normalization.

    batch_norm_running_means_ : list of ndarray of shape (n_units,)
        Running mean of each hidden layer's ``X @ W + b``, which ``predict``
        normalises with. Carried on by ``warm_start`` and ``partial_fit``;
        with ``early_stopping``, that of the best epoch.

    batch_norm_running_vars_ : list of ndarray of shape (n_units,)
        Running (unbiased) variance, alike.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.

    n_iter_ : int
        Number of epochs (L-BFGS iterations) run by the last call to ``fit``
        / ``partial_fit``.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Name of the output activation.
"""

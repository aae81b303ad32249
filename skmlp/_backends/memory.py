"""What a fit or a prediction keeps on the device, said when it runs out of
memory."""

import contextlib
from itertools import pairwise

import numpy as np


def _megabytes(n_bytes):
    return f"{n_bytes / 2**20:,.1f} MiB"


def out_of_memory_message(n_samples, layer_units, batch_size, dtype, full_batch=False):
    """What a fit of ``n_samples`` rows through ``layer_units`` (inputs first,
    outputs last) in mini-batches of ``batch_size`` keeps on the device, and
    what to lower when it does not fit. ``full_batch``: the solver (L-BFGS)
    has no mini-batches and computes on all rows at once."""
    itemsize = np.dtype(dtype).itemsize
    n_params = sum(a * b for a, b in pairwise(layer_units)) + sum(layer_units[1:])
    data = n_samples * (layer_units[0] + layer_units[-1]) * itemsize
    # params, grads, scratch, two optimizer states, early stopping's best copy
    parameters = 6 * n_params * itemsize
    if full_batch:
        batch_size = n_samples
        advice = (
            "L-BFGS computes on all rows at once: use solver='adam' or 'sgd' to "
            "train in mini-batches of batch_size rows"
        )
    else:
        advice = (
            "Lower batch_size, train on fewer samples at a time (partial_fit "
            "on chunks)"
        )
    return (
        f"The GPU ran out of memory. This fit keeps {_megabytes(data)} of "
        f"training data on the device ({n_samples} samples x "
        f"{layer_units[0]} features + {layer_units[-1]} targets, "
        f"{np.dtype(dtype).name}), about {_megabytes(parameters)} of "
        "parameters, gradients and optimizer state, and about "
        f"{_megabytes(_activation_bytes(batch_size, layer_units, itemsize))} of "
        f"activations for a batch of {batch_size} rows. {advice}, pass float32 "
        "data (half the memory of float64), or use backend='numpy'."
    )


def predict_out_of_memory_message(n_rows, layer_units, dtype, chunk_rows):
    """What predicting ``n_rows`` rows keeps on the device, and what to lower."""
    itemsize = np.dtype(dtype).itemsize
    data = n_rows * (layer_units[0] + layer_units[-1]) * itemsize
    chunk = min(chunk_rows, n_rows) * sum(layer_units[1:]) * itemsize
    return (
        f"The GPU ran out of memory while predicting. This call keeps "
        f"{_megabytes(data)} of input and output on the device ({n_rows} rows "
        f"x {layer_units[0]} features + {layer_units[-1]} outputs, "
        f"{np.dtype(dtype).name}) and about {_megabytes(chunk)} of activations "
        f"for {min(chunk_rows, n_rows)} rows at a time. Predict on fewer rows "
        "per call, pass float32 data, or move the model to the CPU with "
        "set_params(backend='numpy')."
    )


def _activation_bytes(n_rows, layer_units, itemsize):
    # one gathered batch, then one activation and one delta per layer
    return (
        n_rows
        * (layer_units[0] + layer_units[-1] + 2 * sum(layer_units[1:]))
        * itemsize
    )


@contextlib.contextmanager
def explain_out_of_memory(backend, message):
    """Re-raise the backend's out-of-memory error as a ``MemoryError`` whose
    text is ``message()`` (made only then): what the call keeps on the device
    and what to lower."""
    try:
        yield
    except backend.out_of_memory_errors as exc:
        raise MemoryError(message()) from exc

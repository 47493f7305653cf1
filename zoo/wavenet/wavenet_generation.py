"""WaveNet sampling: the fast queue-based generator, the naive one that recomputes the receptive field, and the
single-step function with explicit state that exports to TFLite.

Fast generation keeps, for every causal conv, a queue of its last ``d (k - 1)`` inputs, so one new sample costs
one step per layer instead of a pass over the whole receptive field (Paine et al. 2016, "Fast Wavenet
Generation Algorithm", arXiv:1611.09482). Both generators run their whole loop inside one ``tf.function``
(``tf.while_loop``) and draw samples by inverse-CDF / Gumbel-max from the same pre-drawn uniform noise, so with
equal noise they produce identical ids.

Example:
    >>> from zoo.wavenet import WaveNet
    >>> m = WaveNet.from_preset("wavenet_tiny")
    >>> noise = draw_noise(m, 64, batch_size=1, seed=0)
    >>> fast = generate(m, noise=noise)                   # (1, 64) int32
    >>> slow = generate(m, noise=noise, method="naive")
    >>> bool((fast.numpy() == slow.numpy()).all())
    True
"""

from __future__ import annotations

import weakref

import tensorflow as tf

from audiogen_tf.layers.recurrent import explicit_state_step
from zoo.wavenet.wavenet_model import mol_sample, softmax_sample

_COMPILED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


# ------------------------------------------------------------------------------- state and one step
def queue_shapes(model, batch_size=1) -> list[tuple]:
    """Shapes of the step state: the input causal conv's queue, then one queue per residual block."""
    enc_dim = model.get_layer("input_encoding").output_dim
    shapes = [(batch_size, model.initial_kernel_size - 1, enc_dim)]
    shapes += [(batch_size, d * (model.kernel_size - 1), model.residual_channels) for d in model.dilations]
    return shapes


def initial_queues(model, batch_size=1) -> list:
    """Zero queues (the causal zero padding before the first sample), one float32 tensor per causal conv."""
    return [tf.zeros(s, tf.float32) for s in queue_shapes(model, batch_size)]


def step(model, x_t, queues, global_id=None, local_t=None):
    """One WaveNet time step with explicit state.

    Args:
        model: a :class:`~zoo.wavenet.WaveNet`.
        x_t: previous sample ids (batch,) int32 (``Q // 2`` before the first sample).
        queues: list of state tensors, shapes :func:`queue_shapes`.
        global_id: (batch,) int32 when the model has global conditioning.
        local_t: upsampled local conditioning of the sample being predicted, (batch, local_channels).

    Returns:
        ``(outputs_t, new_queues)``: logits (batch, Q) or MoL parameters (batch, 3 M), and the shifted queues.
    """
    layers = model.network_layers()
    h = layers["encoder"](tf.cast(x_t, tf.int32))
    h, q0 = layers["causal_conv"].step(h, queues[0])
    g = layers["global_embedding"](tf.cast(global_id, tf.int32)) if model.global_classes else None
    local_t = local_t if model.local_channels else None
    new_queues, total = [q0], None
    for block, q in zip(layers["blocks"], queues[1:]):
        h, s, q_new = block.step(h, q, g, local_t)
        new_queues.append(q_new)
        total = s if total is None else total + s
    y = layers["head_act1"](total)
    y = layers["head_conv1"](y)
    y = layers["head_act2"](y)
    return layers["head_out"](y), new_queues


def noise_dim(model) -> int:
    """Uniform numbers consumed per sample: ``Q`` (Gumbel-max over classes) or ``M + 1`` (MoL)."""
    return model.quantization_channels if model.output_type == "softmax" else model.num_mixtures + 1


def draw_noise(model, num_samples, batch_size=1, seed=0):
    """Uniform noise in (0, 1), (batch, num_samples, :func:`noise_dim`), stateless from ``seed``."""
    return tf.random.stateless_uniform(
        (batch_size, num_samples, noise_dim(model)), seed=[int(seed), 0], minval=1e-6, maxval=1.0 - 1e-6
    )


def sample(model, outputs_t, noise_t, temperature=1.0):
    """Draw ids (batch,) from one step's outputs with the given uniform noise (batch, noise_dim)."""
    if model.output_type == "softmax":
        return softmax_sample(outputs_t, noise_t, temperature)
    return mol_sample(outputs_t, noise_t, model.quantization_channels, model.num_mixtures, model.log_scale_min,
                      temperature)


# ------------------------------------------------------------------------------- the two loops
def _cached_loop(model, noise, temperature, global_id, local, return_outputs):
    batch, n = int(noise.shape[0]), int(noise.shape[1])
    prev = tf.fill([batch], tf.constant(model.quantization_channels // 2, tf.int32))
    ids_ta = tf.TensorArray(tf.int32, size=n)
    out_ta = tf.TensorArray(tf.float32, size=n if return_outputs else 0, dynamic_size=not return_outputs)

    def body(t, prev, queues, ids_ta, out_ta):
        local_t = local[:, t] if local is not None else None
        out, queues = step(model, prev, queues, global_id, local_t)
        x = sample(model, out, noise[:, t], temperature)
        if return_outputs:
            out_ta = out_ta.write(t, out)
        return t + 1, x, queues, ids_ta.write(t, x), out_ta

    loop_vars = (tf.constant(0), prev, initial_queues(model, batch), ids_ta, out_ta)
    _, _, _, ids_ta, out_ta = tf.while_loop(lambda t, *_: t < n, body, loop_vars)
    return ids_ta, out_ta


def _naive_loop(model, noise, temperature, global_id, local, return_outputs):
    batch, n = int(noise.shape[0]), int(noise.shape[1])
    r = model.receptive_field
    silence = model.quantization_channels // 2
    hist = tf.fill([batch, r], tf.constant(silence, tf.int32))
    if local is not None:
        local = tf.concat([tf.zeros([batch, r - 1, model.local_channels], local.dtype), local], axis=1)
    positions = tf.range(r)
    ids_ta = tf.TensorArray(tf.int32, size=n)
    out_ta = tf.TensorArray(tf.float32, size=n if return_outputs else 0, dynamic_size=not return_outputs)

    def body(t, hist, ids_ta, out_ta):
        # window of the last r inputs; position j is time t - r + 1 + j, which exists only when >= 0
        mask = tf.cast(positions >= r - 1 - t, tf.float32)[None, :, None]
        window_local = tf.slice(local, [0, t, 0], [batch, r, model.local_channels]) if local is not None else None
        out = model.forward_upsampled(hist, window_local, global_id, mask, last_only=True)[:, -1]
        x = sample(model, out, noise[:, t], temperature)
        if return_outputs:
            out_ta = out_ta.write(t, out)
        hist = tf.concat([hist[:, 1:], x[:, None]], axis=1)
        return t + 1, hist, ids_ta.write(t, x), out_ta

    _, _, ids_ta, out_ta = tf.while_loop(lambda t, *_: t < n, body, (tf.constant(0), hist, ids_ta, out_ta))
    return ids_ta, out_ta


def _compiled(model, method, return_outputs):
    table = _COMPILED.setdefault(model, {})
    key = (method, bool(return_outputs))
    if key not in table:
        loop = _cached_loop if method == "cached" else _naive_loop

        def run(noise, temperature, global_id, mel):
            local = model.upsample(mel) if mel is not None else None
            ids_ta, out_ta = loop(model, noise, temperature, global_id, local, return_outputs)
            ids = tf.transpose(ids_ta.stack(), [1, 0])
            if not return_outputs:
                return ids
            return ids, tf.transpose(out_ta.stack(), [1, 0, 2])

        table[key] = tf.function(run, reduce_retracing=True)
    return table[key]


def generate(model, num_samples=None, batch_size=1, global_id=None, mel=None, temperature=1.0, seed=0, noise=None,
             method="cached", return_outputs=False):
    """Sample ids autoregressively, the whole loop in one ``tf.function`` (``tf.while_loop``).

    Args:
        model: a :class:`~zoo.wavenet.WaveNet`.
        num_samples: samples to draw (default: all ``frames * hop_length`` samples of ``mel``, or ``noise``'s length).
        batch_size: examples (taken from ``noise`` / ``mel`` / ``global_id`` when given).
        global_id: (batch,) int32 class / speaker ids (models with global conditioning).
        mel: (batch, frames, local_channels) conditioning frames (models with local conditioning).
        temperature: divides logits (softmax) / the component logits and scales the logistic (MoL).
        seed: seed of the noise when ``noise`` is not given.
        noise: uniform noise (batch, num_samples, :func:`noise_dim`); the same noise gives the same samples in
            both methods.
        method: ``"cached"`` (queues, Paine et al.) or ``"naive"`` (recomputes the receptive field per sample).
        return_outputs: also return the per-step outputs (batch, num_samples, out_dim).

    Returns:
        int32 ids (batch, num_samples) [, outputs]; :meth:`WaveNet.ids_to_audio` turns ids into a waveform.

    Example:
        >>> from zoo.wavenet import WaveNet
        >>> generate(WaveNet.from_preset("wavenet_tiny"), 16, seed=1).shape
        TensorShape([1, 16])
    """
    if method not in ("cached", "naive"):
        raise ValueError(f"method must be 'cached' or 'naive', got {method!r}")
    if mel is not None:
        mel = tf.convert_to_tensor(mel, tf.float32)
        batch_size = int(mel.shape[0])
    elif model.local_channels:
        raise ValueError("this WaveNet has local conditioning: pass mel (batch, frames, local_channels)")
    if global_id is not None:
        global_id = tf.reshape(tf.convert_to_tensor(global_id, tf.int32), [-1])
        batch_size = int(global_id.shape[0])
    elif model.global_classes:
        raise ValueError("this WaveNet has global conditioning: pass global_id (batch,)")
    if noise is not None:
        noise = tf.convert_to_tensor(noise, tf.float32)
        batch_size = int(noise.shape[0])
        num_samples = int(noise.shape[1]) if num_samples is None else int(num_samples)
        noise = noise[:, :num_samples]
    if num_samples is None:
        if mel is None:
            raise ValueError("give num_samples (or noise / mel to take it from)")
        num_samples = int(mel.shape[1]) * model.hop_length
    if mel is not None and num_samples > int(mel.shape[1]) * model.hop_length:
        raise ValueError(f"num_samples={num_samples} exceeds the {int(mel.shape[1]) * model.hop_length} samples of mel")
    if noise is None:
        noise = draw_noise(model, num_samples, batch_size, seed)
    fn = _compiled(model, method, return_outputs)
    return fn(noise, tf.constant(temperature, tf.float32), global_id, mel)


# ------------------------------------------------------------------------------- export
def export_endpoints(model, batch_size=1, mel_frames=None) -> list:
    """``[(name, function, input_specs)]`` for SavedModel / TFLite export.

    - ``"step"``: ``(x_t (B,) int32, queue_0, ..., queue_L [, global_id (B,) int32] [, local_t (B, local_channels)])``
      -> ``[outputs_t (B, out_dim), new_queue_0, ..., new_queue_L]``; every shape fixed (:func:`queue_shapes`).
    - ``"upsample"`` (local conditioning only): mel (B, mel_frames, local_channels) -> (B, mel_frames * hop, local_channels).
    """
    trailing = []
    if model.global_classes:
        trailing.append(tf.TensorSpec((batch_size,), tf.int32, name="global_id"))
    if model.local_channels:
        trailing.append(tf.TensorSpec((batch_size, model.local_channels), tf.float32, name="local_t"))

    def one_step(x_t, queues, *rest):
        rest = list(rest)
        gid = rest.pop(0) if model.global_classes else None
        local_t = rest.pop(0) if model.local_channels else None
        return step(model, x_t, queues, gid, local_t)

    step_fn, specs = explicit_state_step(one_step, [tf.TensorSpec((batch_size,), tf.int32, name="x_t")],
                                         queue_shapes(model, batch_size), trailing, state_name="queue")
    endpoints = [("step", step_fn, specs)]
    if model.local_channels:
        endpoints.append((
            "upsample",
            lambda mel: model.upsample(mel),
            [tf.TensorSpec((batch_size, mel_frames, model.local_channels), tf.float32, name="mel")],
        ))
    return endpoints

"""Non-autoregressive LSTM TTS whose durations are learned with a CTC (forward-sum) alignment.

Training graph (one ``fit`` step):

- **text encoder**: embedding -> conv stack (ReLU, LayerNorm, dropout) -> masked BiLSTM -> (batch, tokens, dim);
- **aligner**: a small conv encoder of the token embeddings and one of the mel frames; the score of frame ``t``
  against token ``n`` is ``-temperature * ||q_t - k_n||^2``; log-softmax over the tokens plus the log of the static
  beta-binomial prior gives the log soft alignment (batch, frames, tokens) (RAD-TTS's aligner);
- **forward-sum loss**: CTC of the frames against the token sequence ``1..N`` with a blank
  (:func:`audiogen_tf.alignment.forward_sum_loss`), which sums over every monotonic alignment;
- **hard alignment** by monotonic alignment search (Viterbi) over the soft one; its column sums are the durations,
  and the **binarization** term pulls the soft alignment towards it;
- **duration predictor** (conv + dense) on the encoder outputs, trained on ``log(1 + duration)``;
- **length regulator** (repeat each token's encoding for its duration, plus the frame's position inside the token)
  and a **decoder** (conv stack -> masked BiLSTM -> dense) to the log-mel, trained with a masked L1 + MSE.

Inference and the TFLite ``synthesize`` signature use predicted durations and a length regulator with a fixed
number of output frames (compare-and-sum index, one-hot matmul, tail masked): one call, static shapes, builtin ops,
and no attention loop, so the model cannot skip or repeat a token.

Example:
    >>> import numpy as np
    >>> model = CTCTTS.from_preset("ctc_tts_tiny")
    >>> ids, lengths = model.frontend.encode_batch(["hi there."])
    >>> out = model({"text_ids": ids, "text_lengths": lengths, "mel": np.zeros((1, 30, 80), "float32"),
    ...              "mel_lengths": np.array([30])})
    >>> tuple(out["mel"].shape), int(np.asarray(out["durations"]).sum())
    ((1, 30, 80), 30)

Papers: Badlani et al. 2021, "One TTS Alignment To Rule Them All" (arXiv:2108.10447); Shih et al. 2021, "RAD-TTS"
(aligner); Łańcucki 2021, "FastPitch" (arXiv:2006.06873); Ren et al. 2019, "FastSpeech" (length regulator,
arXiv:1905.09263); Kim et al. 2020, "Glow-TTS" (monotonic alignment search, arXiv:2005.11129).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from audiogen_tf.alignment import (batch_monotonic_alignment_search, binarization_loss, forward_sum_loss,
                                   length_regulate)
from audiogen_tf.durations import durations_to_alignment  # noqa: F401  (public here too)
from audiogen_tf.errors import ConfigError
from audiogen_tf.features import CarriesFeatures, complete_mel_config, log_mel_to_audio
from audiogen_tf.layers.sequence import ApplyMask, MaskFromLengths
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register
from audiogen_tf.text import TextFrontEnd
from zoo.tacotron2.tacotron2_model import MaskedBiLSTM


# ------------------------------------------------------------------------------------------- layers
@register
class AlignerScores(keras.layers.Layer):
    """Aligner head: ``(queries (b, T, a), keys (b, N, a), text_lengths, mel_lengths)`` -> ``(log_probs, soft)``.

    ``log_probs = log_softmax_n(-temperature * ||q_t - k_n||^2) + log prior(t, n)`` over the valid tokens, with the
    static beta-binomial prior (``alpha = s (t + 1)``, ``beta = s (T - t)``, ``s = prior_scaling``; none when 0);
    ``soft`` = softmax over tokens of ``log_probs`` (zero on padded tokens and frames).
    """

    def __init__(self, temperature=0.01, prior_scaling=1.0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.temperature = float(temperature)
        self.prior_scaling = float(prior_scaling)

    def log_prior(self, text_lengths, mel_lengths, max_text, max_mel):
        """log beta-binomial prior (b, T, N) from lgamma, 0 outside each item's box."""
        n = ops.cast(ops.reshape(text_lengths, (-1, 1, 1)), "float32")
        t_len = ops.cast(ops.reshape(mel_lengths, (-1, 1, 1)), "float32")
        k = ops.reshape(ops.cast(ops.arange(max_text), "float32"), (1, 1, -1))
        t = ops.reshape(ops.cast(ops.arange(max_mel), "float32"), (1, -1, 1)) + 1.0
        s = self.prior_scaling
        a, b = s * t, s * (t_len - t + 1.0)
        a, b = ops.maximum(a, 1e-3), ops.maximum(b, 1e-3)
        big_n = ops.maximum(n - 1.0, 0.0)
        lg = tf.math.lgamma
        log_comb = lg(big_n + 1.0) - lg(k + 1.0) - lg(ops.maximum(big_n - k, 0.0) + 1.0)
        log_beta = lambda x, y: lg(x) + lg(y) - lg(x + y)  # noqa: E731
        logp = log_comb + log_beta(k + a, ops.maximum(big_n - k, 0.0) + b) - log_beta(a, b)
        box = ops.logical_and(k < n, t <= t_len)
        return ops.where(box, ops.maximum(logp, math.log(1e-8)), 0.0)

    def call(self, queries, keys, text_lengths, mel_lengths):
        q, k = ops.cast(queries, "float32"), ops.cast(keys, "float32")
        dist = (ops.sum(q * q, -1, keepdims=True) - 2.0 * ops.matmul(q, ops.transpose(k, (0, 2, 1)))
                + ops.expand_dims(ops.sum(k * k, -1), 1))
        n = ops.shape(k)[1]
        token_mask = ops.expand_dims(ops.arange(n) < ops.expand_dims(ops.cast(text_lengths, "int32"), 1), 1)
        scores = ops.where(token_mask, -self.temperature * dist, -1e4)
        log_probs = ops.log_softmax(scores, axis=-1)
        if self.prior_scaling > 0:
            log_probs = log_probs + ops.stop_gradient(
                self.log_prior(text_lengths, mel_lengths, n, ops.shape(q)[1]))
        log_probs = ops.where(token_mask, log_probs, -1e4)
        frame_mask = ops.expand_dims(ops.arange(ops.shape(q)[1]) < ops.expand_dims(ops.cast(mel_lengths, "int32"), 1), -1)
        soft = ops.softmax(log_probs, axis=-1) * ops.cast(ops.logical_and(frame_mask, token_mask), "float32")
        return log_probs, soft

    def compute_output_spec(self, queries, keys, text_lengths=None, mel_lengths=None):
        shape = (queries.shape[0], queries.shape[1], keys.shape[1])
        # two distinct tensors: one object returned twice makes a functional model wire both outputs to one
        return keras.KerasTensor(shape, dtype="float32"), keras.KerasTensor(shape, dtype="float32")

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature, "prior_scaling": self.prior_scaling}


@register
class MonotonicAlignment(keras.layers.Layer):
    """``(log_probs (b, T, N), text_lengths, mel_lengths)`` -> ``(hard (b, T, N), durations (b, N))``: the Viterbi
    monotonic path (:func:`audiogen_tf.alignment.monotonic_alignment_search`, NumPy), no gradient."""

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)

    def call(self, log_probs, text_lengths, mel_lengths):
        hard = tf.numpy_function(batch_monotonic_alignment_search,
                                 [ops.stop_gradient(ops.cast(log_probs, "float32")), text_lengths, mel_lengths],
                                 tf.float32, stateful=False)
        hard = tf.ensure_shape(hard, log_probs.shape)
        hard = ops.stop_gradient(hard)
        return hard, ops.sum(hard, axis=1)

    def compute_output_spec(self, log_probs, text_lengths=None, mel_lengths=None):
        return (keras.KerasTensor(log_probs.shape, dtype="float32"),
                keras.KerasTensor((log_probs.shape[0], log_probs.shape[2]), dtype="float32"))


@register
class LengthRegulator(keras.layers.Layer):
    """``(encodings (b, N, d), durations (b, N), reference (b, T, ...))`` -> ``(frames (b, T, d + 1), mask (b, T))``:
    each token's encoding repeated for its duration, plus the frame's position inside the token as a last channel
    (:func:`audiogen_tf.alignment.length_regulate`); ``T`` is the reference's frame count."""

    def call(self, encodings, durations, reference):
        frames, position, mask = length_regulate(encodings, durations, ops.shape(reference)[1])
        return ops.concatenate([frames, ops.cast(position, frames.dtype)], axis=-1), mask

    def compute_output_spec(self, encodings, durations, reference):
        return (keras.KerasTensor((encodings.shape[0], reference.shape[1], encodings.shape[2] + 1), dtype=self.compute_dtype),
                keras.KerasTensor((encodings.shape[0], reference.shape[1]), dtype=self.compute_dtype))


@register
class Squeeze(keras.layers.Layer):
    """Drop the last axis (of size 1)."""

    def call(self, x):
        return ops.squeeze(x, -1)

    def compute_output_shape(self, shape):
        return tuple(shape[:-1])


@register
class FrameStack(keras.layers.Layer):
    """``(x (b, T, d), mask (b, T))`` -> ``(stacked (b, ceil(T / r), r * d), mask (b, ceil(T / r)))``: ``r``
    consecutive frames side by side (zero-padded at the end), so a recurrent layer runs ``r`` times fewer steps
    (Tacotron's reduction factor, applied to a non-autoregressive decoder). A group is valid if its first frame is."""

    def __init__(self, stride=1, **kwargs):
        super().__init__(**kwargs)
        self.stride = int(stride)

    def call(self, x, mask):
        r = self.stride
        t = ops.shape(x)[1]
        pad = (r - t % r) % r
        x = ops.pad(x, [[0, 0], [0, pad], [0, 0]])
        mask = ops.pad(mask, [[0, 0], [0, pad]])
        groups = (t + pad) // r
        return ops.reshape(x, (ops.shape(x)[0], groups, r * x.shape[-1])), mask[:, ::r]

    def compute_output_spec(self, x, mask):
        groups = None if x.shape[1] is None else -(-x.shape[1] // self.stride)
        return (keras.KerasTensor((x.shape[0], groups, self.stride * x.shape[-1]), dtype=self.compute_dtype),
                keras.KerasTensor((x.shape[0], groups), dtype=self.compute_dtype))

    def get_config(self):
        return {**super().get_config(), "stride": self.stride}


@register
class FrameUnstack(keras.layers.Layer):
    """``(stacked (b, G, r * d), reference (b, T, ...))`` -> ``(b, T, d)``: the inverse of :class:`FrameStack`,
    trimmed to the reference's frame count."""

    def __init__(self, stride=1, **kwargs):
        super().__init__(**kwargs)
        self.stride = int(stride)

    def call(self, x, reference):
        d = x.shape[-1] // self.stride
        y = ops.reshape(x, (ops.shape(x)[0], ops.shape(x)[1] * self.stride, d))
        return y[:, : ops.shape(reference)[1]]

    def compute_output_spec(self, x, reference):
        return keras.KerasTensor((x.shape[0], reference.shape[1], x.shape[-1] // self.stride), dtype=self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "stride": self.stride}


def _conv_stack(x, mask, layers, filters, kernel_size, dropout, name):
    """``layers`` x (conv same, ReLU, LayerNorm, dropout, mask)."""
    for i in range(layers):
        x = keras.layers.Conv1D(filters, kernel_size, padding="same", activation="relu", name=f"{name}{i}")(x)
        x = keras.layers.LayerNormalization(name=f"{name}{i}_norm")(x)
        x = keras.layers.Dropout(dropout, name=f"{name}{i}_dropout")(x)
        x = ApplyMask(name=f"{name}{i}_mask")(x, mask)
    return x


# ------------------------------------------------------------------------------------------- model
@register
class CTCTTS(CarriesFeatures, ConstructorConfigMixin, PresetMixin, keras.Model):
    """LSTM TTS with learned durations: text ids -> log-mel; durations from a forward-sum (CTC) aligner.

    Inputs (dict): ``text_ids`` (batch, N) int32 (0 = padding), ``text_lengths`` (batch,), ``mel`` (batch, T,
    n_mels) target log-mel, ``mel_lengths`` (batch,). Outputs (dict): ``mel`` (batch, T, n_mels) decoded from the
    target-aligned (MAS) durations, ``log_durations`` (batch, N) predicted, ``durations`` (batch, N) of the hard
    alignment, ``attn_log_probs``, ``attn_soft``, ``attn_hard`` (batch, T, N). ``fit`` takes
    ``(inputs, {"mel", "mel_lengths"})`` (:func:`ctc_tts_dataset`); :meth:`compute_loss` adds the mel, duration,
    forward-sum and (after ``binarization_start_steps``) binarization terms.

    Args:
        frontend: :class:`~audiogen_tf.text.TextFrontEnd` config (characters or espeak-ng phonemes).
        mel_config: every :class:`MelConfig` field of the targets.
        embedding_dim, encoder_conv_layers, encoder_kernel_size, encoder_lstm_units: text encoder.
        aligner_dim, aligner_temperature, prior_scaling: aligner (distance temperature, for features of about unit
            scale; beta-binomial prior scale, 0 for none).
        duration_filters, duration_kernel_size: duration predictor (2 convs + dense).
        decoder_conv_layers, decoder_filters, decoder_kernel_size, decoder_lstm_units: decoder.
        decoder_lstm_stride: frames per decoder-LSTM step (:class:`FrameStack`; 1 = one step per frame). A stride
            of 4 runs the BiLSTM over a quarter of the steps (the decoder LSTM is most of a step's time on a CPU);
            a skip connection keeps the conv stack's per-frame detail.
        dropout: in the conv stacks.
        mel_weight, duration_weight, forward_sum_weight, binarization_weight, binarization_start_steps: loss.
        max_frames: output frames of ``synthesize`` and of the TFLite signature (the longest utterance).
        export_text_length: text ids of the TFLite signature (default the front end's ``max_length``).
    """

    def __init__(self, frontend=None, mel_config=None, embedding_dim=256, encoder_conv_layers=3, encoder_kernel_size=5,
                 encoder_lstm_units=128, aligner_dim=80, aligner_temperature=0.01, prior_scaling=1.0,
                 duration_filters=256, duration_kernel_size=3, decoder_conv_layers=2, decoder_filters=256,
                 decoder_kernel_size=5, decoder_lstm_units=256, decoder_lstm_stride=1, dropout=0.1, mel_weight=1.0, duration_weight=1.0,
                 forward_sum_weight=1.0, binarization_weight=1.0, binarization_start_steps=1000, max_frames=1000,
                 export_text_length=None, name="ctc_tts", **kwargs):
        cfg = complete_mel_config(mel_config, "CTCTTS")
        fe = TextFrontEnd.from_config(frontend) if frontend is not None else TextFrontEnd()
        vocab, n_mels = len(fe.table), cfg.n_mels
        d = 2 * int(encoder_lstm_units)
        dropout = float(dropout)

        text_ids = keras.Input((None,), dtype="int32", name="text_ids")
        text_lengths = keras.Input((), dtype="int32", name="text_lengths")
        mel = keras.Input((None, n_mels), name="mel")
        mel_lengths = keras.Input((), dtype="int32", name="mel_lengths")

        # text encoder
        emb = keras.layers.Embedding(vocab, int(embedding_dim), name="embedding")(text_ids)
        text_mask = MaskFromLengths(name="text_mask")(emb, text_lengths)
        x = ApplyMask(name="embedding_mask")(emb, text_mask)
        x = _conv_stack(x, text_mask, int(encoder_conv_layers), int(embedding_dim), int(encoder_kernel_size), dropout,
                        "encoder_conv")
        enc = MaskedBiLSTM(int(encoder_lstm_units), int(embedding_dim), name="encoder_lstm")(x, text_mask)

        # duration predictor
        dp = _conv_stack(enc, text_mask, 2, int(duration_filters), int(duration_kernel_size), dropout, "duration_conv")
        log_dur = Squeeze(name="log_durations")(keras.layers.Dense(1, name="duration_proj", dtype="float32")(dp))

        # aligner
        a = int(aligner_dim)
        key = keras.layers.Embedding(vocab, a, name="aligner_embedding")(text_ids)
        key = keras.layers.Conv1D(2 * a, 3, padding="same", activation="relu", name="aligner_key0")(key)
        key = keras.layers.Conv1D(a, 1, name="aligner_key1")(key)
        mel_scaled = keras.layers.Rescaling(0.25, 1.25, name="aligner_mel_scale")(mel)
        query = keras.layers.Conv1D(2 * a, 3, padding="same", activation="relu", name="aligner_query0")(mel_scaled)
        query = keras.layers.Conv1D(a, 1, activation="relu", name="aligner_query1")(query)
        query = keras.layers.Conv1D(a, 1, name="aligner_query2")(query)
        log_probs, soft = AlignerScores(aligner_temperature, prior_scaling, name="aligner")(query, key, text_lengths,
                                                                                           mel_lengths)
        hard, durations = MonotonicAlignment(name="mas")(log_probs, text_lengths, mel_lengths)

        # length regulator + decoder
        frames, frame_mask = LengthRegulator(name="length_regulator")(enc, durations, mel)
        decoder_in = keras.Input((None, d + 1), name="decoder_frames")
        decoder_mask = keras.Input((None,), name="decoder_mask")
        y = _conv_stack(decoder_in, decoder_mask, int(decoder_conv_layers), int(decoder_filters),
                        int(decoder_kernel_size), dropout, "decoder_conv")
        r = int(decoder_lstm_stride)
        if r < 1:
            raise ConfigError(f"decoder_lstm_stride must be >= 1, got {decoder_lstm_stride}")
        if r == 1:
            y = MaskedBiLSTM(int(decoder_lstm_units), int(decoder_filters), name="decoder_lstm")(y, decoder_mask)
        else:  # the BiLSTM runs over groups of r frames; a dense layer spreads its output back over the r frames
            stacked, group_mask = FrameStack(r, name="decoder_stack")(y, decoder_mask)
            stacked = keras.layers.Dense(int(decoder_filters), name="decoder_stack_proj")(stacked)
            z = MaskedBiLSTM(int(decoder_lstm_units), int(decoder_filters), name="decoder_lstm")(stacked, group_mask)
            z = keras.layers.Dense(r * int(decoder_filters), name="decoder_unstack_proj")(z)
            z = FrameUnstack(r, name="decoder_unstack")(z, y)
            y = ApplyMask(name="decoder_lstm_mask")(keras.layers.Add(name="decoder_skip")([y, z]), decoder_mask)
        y = keras.layers.Dense(n_mels, name="mel_proj", dtype="float32")(y)
        y = keras.layers.Rescaling(4.0, -5.0, name="mel_scale", dtype="float32")(y)  # unit range -> log-mel range
        decoder = keras.Model([decoder_in, decoder_mask], y, name="decoder")
        mel_out = decoder([frames, frame_mask])

        outputs = {"mel": mel_out, "log_durations": log_dur, "durations": durations, "attn_log_probs": log_probs,
                   "attn_soft": soft, "attn_hard": hard}
        super().__init__(inputs={"text_ids": text_ids, "text_lengths": text_lengths, "mel": mel,
                                 "mel_lengths": mel_lengths}, outputs=outputs, name=name, **kwargs)
        self.keep_config(
            frontend=fe.get_config(), mel_config=cfg.to_dict(), embedding_dim=int(embedding_dim),
            encoder_conv_layers=int(encoder_conv_layers), encoder_kernel_size=int(encoder_kernel_size),
            encoder_lstm_units=int(encoder_lstm_units), aligner_dim=a, aligner_temperature=float(aligner_temperature),
            prior_scaling=float(prior_scaling), duration_filters=int(duration_filters),
            duration_kernel_size=int(duration_kernel_size), decoder_conv_layers=int(decoder_conv_layers),
            decoder_filters=int(decoder_filters), decoder_kernel_size=int(decoder_kernel_size),
            decoder_lstm_units=int(decoder_lstm_units), decoder_lstm_stride=int(decoder_lstm_stride), dropout=dropout,
            mel_weight=float(mel_weight),
            duration_weight=float(duration_weight), forward_sum_weight=float(forward_sum_weight),
            binarization_weight=float(binarization_weight), binarization_start_steps=int(binarization_start_steps),
            max_frames=int(max_frames), export_text_length=None if export_text_length is None else int(export_text_length))
        self.frontend = fe
        self.n_mels = n_mels
        self.sample_rate = cfg.sample_rate
        self.text_encoder = keras.Model([text_ids, text_lengths], [enc, log_dur, text_mask], name="text_encoder")
        self.aligner_model = keras.Model([text_ids, text_lengths, mel, mel_lengths], [log_probs, soft, hard, durations],
                                         name="aligner_model")
        self.decoder = decoder
        self._trackers = {k: keras.metrics.Mean(name=k) for k in
                          ("mel_loss", "duration_loss", "forward_sum_loss", "binarization_loss")}
        self._synthesis_fn = None

    def get_config(self):
        return {**super().get_config(), "frontend": self.frontend.get_config()}

    # ------------------------------------------------------------------------------------------ training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Masked mel L1 + MSE, MSE of log(1 + duration), forward-sum CTC, and the binarization term."""
        mel_lengths = ops.cast(x["mel_lengths"], "int32")
        text_lengths = ops.cast(x["text_lengths"], "int32")
        target = ops.cast(y["mel"], "float32")
        pred = ops.cast(y_pred["mel"], "float32")
        t = ops.shape(pred)[1]
        fmask = ops.cast(ops.arange(t) < ops.expand_dims(mel_lengths, 1), "float32")[..., None]
        denom = ops.maximum(ops.sum(fmask) * self.n_mels, 1.0)
        diff = (pred - target[:, :t]) * fmask
        mel_loss = ops.sum(ops.abs(diff)) / denom + ops.sum(ops.square(diff)) / denom
        n = ops.shape(y_pred["log_durations"])[1]
        tmask = ops.cast(ops.arange(n) < ops.expand_dims(text_lengths, 1), "float32")
        log_target = ops.log1p(ops.stop_gradient(ops.cast(y_pred["durations"], "float32")))
        dur_loss = ops.sum(ops.square(ops.cast(y_pred["log_durations"], "float32") - log_target) * tmask) / \
            ops.maximum(ops.sum(tmask), 1.0)
        fs_loss = forward_sum_loss(y_pred["attn_log_probs"], text_lengths, mel_lengths)
        bin_loss = binarization_loss(y_pred["attn_hard"], y_pred["attn_soft"])
        step = ops.cast(self.optimizer.iterations, "float32") if getattr(self, "optimizer", None) is not None else 0.0
        bin_on = ops.cast(step >= float(self.binarization_start_steps), "float32")
        loss = (self.mel_weight * mel_loss + self.duration_weight * dur_loss + self.forward_sum_weight * fs_loss
                + self.binarization_weight * bin_on * bin_loss)
        for k, v in (("mel_loss", mel_loss), ("duration_loss", dur_loss), ("forward_sum_loss", fs_loss),
                     ("binarization_loss", bin_loss)):
            self._trackers[k].update_state(v)
        return loss

    # ------------------------------------------------------------------------------------------ inference
    def predicted_durations(self, log_durations, text_lengths, duration_scale=1.0):
        """Frames per token from predicted ``log(1 + d)``: ``max(round(scale * (exp - 1)), 1)`` on valid tokens."""
        n = ops.shape(log_durations)[1]
        tmask = ops.cast(ops.arange(n) < ops.expand_dims(ops.cast(text_lengths, "int32"), 1), "float32")
        d = ops.round(ops.maximum((ops.exp(ops.cast(log_durations, "float32")) - 1.0) * duration_scale, 0.0))
        return ops.maximum(d, 1.0) * tmask

    def synthesize_ids(self, text_ids, text_lengths, max_frames=None, duration_scale=1.0):
        """Ids (batch, N) + lengths -> ``{"mel" (batch, max_frames, n_mels) zero past the end, "mel_lengths",
        "durations" (batch, N)}``: predicted durations, a static-size length regulator, the decoder."""
        f = int(max_frames or self.max_frames)
        enc, log_dur, _ = self.text_encoder([text_ids, text_lengths], training=False)
        d = self.predicted_durations(log_dur, text_lengths, duration_scale)
        frames, position, mask = length_regulate(enc, d, f)
        mel = self.decoder([ops.concatenate([frames, position], -1), mask], training=False)
        mel = mel * ops.expand_dims(mask, -1)
        return {"mel": mel, "mel_lengths": ops.cast(ops.minimum(ops.sum(d, axis=1), float(f)), "int32"),
                "durations": ops.cast(d, "int32")}

    def synthesize(self, text, griffin_lim_iters=32, duration_scale=1.0, seed=0, max_frames=None,
                   vocoder=None) -> dict:
        """Text -> ``{"mel" (frames, n_mels), "durations" (tokens,), "alignment" (frames, tokens) 0/1, "ids",
        "audio"}``: the audio comes from ``vocoder`` (a Keras mel (1, frames, n_mels) -> audio model) when given,
        else from Griffin-Lim (``griffin_lim_iters=0`` skips it)."""
        ids, lengths = self.frontend.encode_batch([text])
        out = self.synthesize_ids(ids, lengths, max_frames, duration_scale)
        n = int(np.asarray(out["mel_lengths"])[0])
        mel = np.asarray(out["mel"])[0, :n]
        durations = np.asarray(out["durations"])[0, : int(lengths[0])]
        result = {"mel": mel, "durations": durations, "alignment": durations_to_alignment(durations, n),
                  "ids": ids[0]}
        if vocoder is not None:
            result["audio"] = np.asarray(vocoder(mel[None], training=False), np.float32).reshape(-1)
        elif griffin_lim_iters:
            cfg = self.feature_settings
            result["audio"] = np.asarray(log_mel_to_audio(tf.constant(mel), cfg, n_iter=griffin_lim_iters,
                                                          length=max(n - 1, 1) * cfg.hop_length, seed=seed))
        return result

    def align(self, text, audio=None, mel=None) -> dict:
        """Force-align a transcript to speech: ``{"tokens", "durations", "soft" (T, N), "hard" (T, N), "mel"}``.

        Give the audio (mono, at the model's sample rate) or its log-mel (frames, n_mels).
        """
        if mel is None:
            if audio is None:
                raise ConfigError("align needs audio or mel")
            mel = np.asarray(self.features_of(tf.constant(np.asarray(audio, np.float32).reshape(-1))))
        mel = np.asarray(mel, np.float32)
        ids, lengths = self.frontend.encode_batch([text])
        _, soft, hard, durations = self.aligner_model([ids, lengths, mel[None], np.array([len(mel)], np.int32)],
                                                      training=False)
        symbols = [self.frontend.table.symbols[int(i)] for i in ids[0]]
        return {"tokens": symbols, "durations": np.asarray(durations)[0].astype(int), "soft": np.asarray(soft)[0],
                "hard": np.asarray(hard)[0], "mel": mel}

    # ------------------------------------------------------------------------------------------ export
    def export_endpoints(self, text_length=None, max_frames=None):
        """``[("synthesize", fn, specs)]``: ``text_ids (1, N) int32`` zero-padded + ``text_lengths (1,)`` ->
        ``mel (1, max_frames, n_mels)`` (zero past the end), ``mel_lengths (1,)``, ``durations (1, N)``.
        ``N`` defaults to ``export_text_length`` or the front end's ``max_length``."""
        n = int(text_length or self.export_text_length or self.frontend.max_length)
        f = int(max_frames or self.max_frames)

        def synthesize(text_ids, text_lengths):
            return self.synthesize_ids(text_ids, text_lengths, f)

        return [("synthesize", synthesize, [tf.TensorSpec((1, n), tf.int32, name="text_ids"),
                                            tf.TensorSpec((1,), tf.int32, name="text_lengths")],
                 f"text ids (padded to {n}) -> log-mel of {f} frames, its length and the token durations")]


def ctc_tts_dataset(source, frontend, batch_size, mel_config, bucket_boundaries=None, **kwargs):
    """Padded ``({"text_ids", "text_lengths", "mel", "mel_lengths"}, {"mel", "mel_lengths"})`` batches for
    :class:`CTCTTS` (the Tacotron 2 batches plus the mel lengths as an input: the aligner needs them)."""
    from zoo.tacotron2.tacotron2_model import tacotron2_dataset

    ds = tacotron2_dataset(source, frontend, batch_size, mel_config=mel_config, bucket_boundaries=bucket_boundaries,
                           **kwargs)
    report = ds.skip_report

    def add_lengths(x, y):
        lengths = tf.cast(y["mel_lengths"], tf.int32)
        return ({**x, "mel_lengths": lengths}, {"mel": y["mel"], "mel_lengths": lengths})

    ds = ds.map(add_lengths)
    ds.skip_report = report
    return ds

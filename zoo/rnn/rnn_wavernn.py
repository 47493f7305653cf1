"""WaveRNN (simplified): a sample-level GRU vocoder conditioned on upsampled log-mel frames.

Output ``"mulaw"``: one GRU predicts 8-bit mu-law classes (256-way softmax). Output ``"coarse_fine"``: a 16-bit
sample is split into coarse (high 8 bits) and fine (low 8 bits) parts; a coarse GRU sees the previous coarse and
fine parts, a fine GRU also sees the current coarse part (the paper's split state, here as two GRUs without the
shared recurrent matrix). Teacher forcing trains it with ``compile`` / ``fit`` (:func:`wavernn_pairs`);
:meth:`WaveRNN.generate` runs the sampling loop in one ``tf.function``; :meth:`WaveRNN.step` is the explicit-state
step (sampling included, from given uniform noise) that exports to a builtin-ops ``.tflite``.

Example:
    >>> import numpy as np
    >>> m = WaveRNN.from_preset("wavernn_tiny")
    >>> audio = np.random.uniform(-0.5, 0.5, (2, 4 * m.hop_length)).astype("float32")
    >>> mel = np.random.normal(-5, 2, (2, 4, m.n_mels)).astype("float32")
    >>> x, y = wavernn_pairs(audio, mel, m.output_type)
    >>> tuple(m(x).shape)
    (2, 512, 256)
    >>> ids = m.generate(mel[:1, :1], seed=0)          # (1, 128) int32

Paper: Kalchbrenner et al. 2018, "Efficient Neural Audio Synthesis" (arXiv:1802.08435); mu-law: ITU-T G.711.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from audiogen_tf.features import CarriesFeatures, carried_mel_config
from audiogen_tf.layers.causal import mu_law_decode_ops, mu_law_encode_ops
from audiogen_tf.layers.recurrent import RecurrentStack, explicit_state_step
from audiogen_tf.registry import PresetMixin
from audiogen_tf.serialization import register

OUTPUT_TYPES = ("mulaw", "coarse_fine")
SILENCE_16BIT = 32768
_COMPILED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@register
class ScaleIds(keras.layers.Layer):
    """Class ids -> scalars in [-1, 1]: (batch, time) int -> (batch, time, parts) float32.

    Args:
        num_classes: classes per part (256).
        split: ``True`` splits 16-bit ids into (coarse, fine) = (id // num_classes, id % num_classes).
    """

    def __init__(self, num_classes=256, split=False, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.split = bool(split)

    def call(self, ids):
        ids = ops.cast(ids, "int32")
        scale = 2.0 / float(self.num_classes - 1)
        if self.split:
            parts = ops.stack([ids // self.num_classes, ids % self.num_classes], axis=-1)
        else:
            parts = ops.expand_dims(ids, -1)
        return ops.cast(parts, "float32") * scale - 1.0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (2 if self.split else 1,)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "split": self.split}


@register
class WaveRNN(CarriesFeatures, PresetMixin, keras.Model):
    """WaveRNN: previous-sample ids and log-mel frames -> next-sample logits.

    Inputs (dict): ``"audio_ids"`` (batch, time) int32 previous samples (mu-law ids, or 16-bit ids for
    ``coarse_fine``), shifted right by one (:func:`wavernn_pairs`); ``"mel"`` (batch, time / hop_length, n_mels);
    for ``coarse_fine`` also ``"coarse_ids"`` (batch, time) int32, the current samples' coarse parts.
    Output: logits (batch, time, 256) (``mulaw``) or (batch, time, 2, 256) (``coarse_fine``: coarse, fine).

    Args:
        n_mels: conditioning bands.
        hop_length: samples per mel frame (conditioning upsampling factor).
        mel_config: every ``MelConfig`` field of the conditioning (``n_mels`` and ``hop_length`` must agree), saved
            with the model so a ``.keras`` file alone makes its own input mel; ``None`` only for older files.
        rnn_units: GRU width (``coarse_fine``: split in two halves, one GRU each).
        fc_units: width of the ReLU layer before the softmax.
        cond_channels: channels of the conditioning (Conv1D over frames, then repeated ``hop_length`` times).
        cond_kernel_size: taps of that Conv1D.
        output: ``"mulaw"`` (8-bit) or ``"coarse_fine"`` (2 x 8 bits).
        quantization_channels: mu-law classes (``mulaw``).
        input_type: ``"scalar"`` (ids scaled to [-1, 1], as in the paper) or ``"embedding"`` (``mulaw`` only).
        embedding_dim: width of the id embedding.
        feature_mean, feature_std: fixed standardisation of the log-mel input.

    Example:
        >>> m = WaveRNN(n_mels=8, hop_length=4, rnn_units=16, fc_units=16, cond_channels=4, output="coarse_fine")
        >>> x = {"audio_ids": np.zeros((1, 8), "int32"), "coarse_ids": np.zeros((1, 8), "int32"),
        ...      "mel": np.zeros((1, 2, 8), "float32")}
        >>> tuple(m(x).shape)
        (1, 8, 2, 256)

    Paper: Kalchbrenner et al. 2018, "Efficient Neural Audio Synthesis" (arXiv:1802.08435).
    """

    def __init__(
        self,
        n_mels=80,
        hop_length=256,
        rnn_units=512,
        fc_units=512,
        cond_channels=64,
        cond_kernel_size=3,
        output="mulaw",
        quantization_channels=256,
        input_type="scalar",
        embedding_dim=32,
        feature_mean=-5.0,
        feature_std=3.0,
        mel_config=None,
        name="wavernn",
        **kwargs,
    ):
        if output not in OUTPUT_TYPES:
            raise ValueError(f"output must be one of {OUTPUT_TYPES}, got {output!r}")
        if input_type not in ("scalar", "embedding"):
            raise ValueError(f"input_type must be 'scalar' or 'embedding', got {input_type!r}")
        if output == "coarse_fine" and input_type != "scalar":
            raise ValueError("output='coarse_fine' takes scalar inputs (input_type='scalar')")
        mel_config, n_mels = carried_mel_config(mel_config, n_mels, int(hop_length), "WaveRNN")
        n_mels, hop_length, rnn_units, fc_units = int(n_mels), int(hop_length), int(rnn_units), int(fc_units)
        cond_channels, cond_kernel_size = int(cond_channels), int(cond_kernel_size)
        q = 256 if output == "coarse_fine" else int(quantization_channels)

        ids = keras.Input((None,), dtype="int32", name="audio_ids")
        mel = keras.Input((None, n_mels), name="mel")
        inputs = {"audio_ids": ids, "mel": mel}
        c = keras.layers.Rescaling(1.0 / float(feature_std), offset=-float(feature_mean) / float(feature_std),
                                   name="standardize")(mel)
        c = keras.layers.Conv1D(cond_channels, cond_kernel_size, padding="same", activation="tanh", name="cond_conv")(c)
        cond = keras.layers.UpSampling1D(hop_length, name="cond_upsample")(c)
        if output == "mulaw":
            if input_type == "scalar":
                x = ScaleIds(q, name="input_encoding")(ids)
            else:
                x = keras.layers.Embedding(q, int(embedding_dim), name="input_encoding")(ids)
            h = RecurrentStack(rnn_units, 1, "gru", name="rnn")(keras.layers.Concatenate(name="rnn_input")([x, cond]))
            h = keras.layers.Dense(fc_units, activation="relu", name="fc")(h)
            y = keras.layers.Dense(q, name="logits")(h)
        else:
            coarse = inputs["coarse_ids"] = keras.Input((None,), dtype="int32", name="coarse_ids")
            prev = ScaleIds(256, split=True, name="input_encoding")(ids)
            cur = ScaleIds(256, name="coarse_encoding")(coarse)
            half = rnn_units // 2
            hc = RecurrentStack(half, 1, "gru", name="rnn_coarse")(
                keras.layers.Concatenate(name="coarse_input")([prev, cond]))
            hf = RecurrentStack(half, 1, "gru", name="rnn_fine")(
                keras.layers.Concatenate(name="fine_input")([prev, cur, cond]))
            yc = keras.layers.Dense(256, name="logits_coarse")(keras.layers.Dense(fc_units // 2, activation="relu", name="fc_coarse")(hc))
            yf = keras.layers.Dense(256, name="logits_fine")(keras.layers.Dense(fc_units // 2, activation="relu", name="fc_fine")(hf))
            yc = keras.layers.Reshape((-1, 1, 256), name="coarse_part")(yc)
            yf = keras.layers.Reshape((-1, 1, 256), name="fine_part")(yf)
            y = keras.layers.Concatenate(axis=2, name="logits")([yc, yf])
        super().__init__(inputs=inputs, outputs=y, name=name, **kwargs)

        self.n_mels = n_mels
        self.hop_length = hop_length
        self.rnn_units = rnn_units
        self.fc_units = fc_units
        self.cond_channels = cond_channels
        self.cond_kernel_size = cond_kernel_size
        self.output_type = output
        self.quantization_channels = q
        self._quantization_arg = int(quantization_channels)
        self.input_type = input_type
        self.embedding_dim = int(embedding_dim)
        self.feature_mean = float(feature_mean)
        self.feature_std = float(feature_std)
        self.mel_config = mel_config

    def get_config(self):
        return {
            "n_mels": self.n_mels,
            "hop_length": self.hop_length,
            "rnn_units": self.rnn_units,
            "fc_units": self.fc_units,
            "cond_channels": self.cond_channels,
            "cond_kernel_size": self.cond_kernel_size,
            "output": self.output_type,
            "quantization_channels": self._quantization_arg,
            "input_type": self.input_type,
            "embedding_dim": self.embedding_dim,
            "feature_mean": self.feature_mean,
            "feature_std": self.feature_std,
            "mel_config": self.mel_config,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ---------------------------------------------------------------- pieces
    @property
    def coarse_fine(self) -> bool:
        return self.output_type == "coarse_fine"

    @property
    def silence_id(self) -> int:
        """Id fed before the first sample: mu-law zero ``Q // 2``, or 16-bit zero 32768."""
        return SILENCE_16BIT if self.coarse_fine else self.quantization_channels // 2

    def noise_shape(self, batch_size=1) -> tuple:
        """Uniform numbers per sample: (batch, 256) or (batch, 2, 256) for coarse/fine (Gumbel-max)."""
        return (batch_size, 2, 256) if self.coarse_fine else (batch_size, self.quantization_channels)

    def condition(self, mel):
        """Log-mel frames (batch, frames, n_mels) -> per-sample conditioning (batch, frames * hop, cond_channels)."""
        c = self.get_layer("standardize")(ops.convert_to_tensor(mel, "float32"))
        return self.get_layer("cond_upsample")(self.get_layer("cond_conv")(c))

    def state_shapes(self, batch_size=1) -> list[tuple]:
        """Shapes of the flat GRU state: ``[(batch, rnn_units)]`` or, coarse/fine, two ``(batch, rnn_units // 2)``."""
        if self.coarse_fine:
            return [(batch_size, self.rnn_units // 2)] * 2
        return [(batch_size, self.rnn_units)]

    def initial_states(self, batch_size=1) -> list:
        """Zero GRU states for :meth:`step`."""
        return [ops.zeros(s, "float32") for s in self.state_shapes(batch_size)]

    @staticmethod
    def _gumbel_argmax(logits, noise, temperature):
        g = -ops.log(-ops.log(noise))
        # tf.argmax: keras.ops.argmax adds a -0.0 fix-up (BitwiseAnd) that has no builtin TFLite kernel
        return tf.math.argmax(logits / temperature + g, axis=-1, output_type=tf.int32)

    def step(self, x_prev, states, cond_t, noise, temperature=1.0):
        """One sample with explicit state, sampling included.

        Args:
            x_prev: previous sample ids (batch,) int32 (:attr:`silence_id` before the first sample).
            states: flat GRU state list (:meth:`initial_states` at the start).
            cond_t: this sample's conditioning (batch, cond_channels), a row of :meth:`condition`.
            noise: uniform (0, 1) numbers :meth:`noise_shape` for Gumbel-max sampling.
            temperature: divides the logits.

        Returns:
            ``(ids (batch,) int32, logits (batch, 256) or (batch, 2, 256), new_states)``; the logits equal the
            teacher-forced outputs for the same previous samples.
        """
        x_prev = ops.cast(x_prev, "int32")
        cond_t = ops.cast(cond_t, "float32")
        enc = self.get_layer("input_encoding")(x_prev)
        if not self.coarse_fine:
            h, new_states = self.get_layer("rnn").step(ops.concatenate([enc, cond_t], axis=-1), states)
            logits = self.get_layer("logits")(self.get_layer("fc")(h))
            return self._gumbel_argmax(logits, noise, temperature), logits, new_states
        hc, sc = self.get_layer("rnn_coarse").step(ops.concatenate([enc, cond_t], axis=-1), states[:1])
        lc = self.get_layer("logits_coarse")(self.get_layer("fc_coarse")(hc))
        c_t = self._gumbel_argmax(lc, noise[:, 0], temperature)
        cur = self.get_layer("coarse_encoding")(c_t)
        hf, sf = self.get_layer("rnn_fine").step(ops.concatenate([enc, cur, cond_t], axis=-1), states[1:])
        lf = self.get_layer("logits_fine")(self.get_layer("fc_fine")(hf))
        f_t = self._gumbel_argmax(lf, noise[:, 1], temperature)
        return c_t * 256 + f_t, ops.stack([lc, lf], axis=1), list(sc) + list(sf)

    # ---------------------------------------------------------------- generation
    def draw_noise_t(self, t, batch_size=1, seed=0):
        """The uniform noise of sample ``t`` (stateless from ``(seed, t)``), what :meth:`generate` uses."""
        return tf.random.stateless_uniform(self.noise_shape(batch_size), seed=tf.stack([tf.cast(seed, tf.int32), tf.cast(t, tf.int32)]),
                                           minval=1e-6, maxval=1.0 - 1e-6)

    def _compiled(self, return_outputs):
        table = _COMPILED.setdefault(self, {})
        if return_outputs not in table:
            def run(mel, seed, temperature, num_samples):
                batch = mel.shape[0] if mel.shape[0] is not None else tf.shape(mel)[0]
                cond = self.condition(mel)
                states = [tf.zeros(tf.stack([batch, s[1]]), tf.float32) for s in self.state_shapes(1)]
                prev = tf.fill([batch], tf.constant(self.silence_id, tf.int32))
                states0 = states
                ids_ta = tf.TensorArray(tf.int32, size=num_samples)
                out_ta = tf.TensorArray(tf.float32, size=num_samples if return_outputs else 0,
                                        dynamic_size=not return_outputs)

                def body(t, prev, states, ids_ta, out_ta):
                    noise = tf.random.stateless_uniform(
                        tf.concat([tf.reshape(batch, [1]), self.noise_shape(1)[1:]], 0), seed=tf.stack([seed, t]),
                        minval=1e-6, maxval=1.0 - 1e-6)
                    x, logits, states = self.step(prev, states, cond[:, t], noise, temperature)
                    x = tf.ensure_shape(x, prev.shape)
                    states = [tf.ensure_shape(s, s0.shape) for s, s0 in zip(states, states0)]
                    if return_outputs:
                        out_ta = out_ta.write(t, logits)
                    return t + 1, x, states, ids_ta.write(t, x), out_ta

                _, _, _, ids_ta, out_ta = tf.while_loop(
                    lambda t, *_: t < num_samples, body, (tf.constant(0), prev, states, ids_ta, out_ta))
                ids = tf.transpose(ids_ta.stack(), [1, 0])
                if not return_outputs:
                    return ids
                outs = out_ta.stack()
                return ids, tf.transpose(outs, [1, 0] + list(range(2, len(outs.shape))))

            table[return_outputs] = tf.function(run, reduce_retracing=True)
        return table[return_outputs]

    def generate(self, mel, num_samples=None, seed=0, temperature=1.0, return_outputs=False):
        """Sample ids (batch, num_samples) conditioned on ``mel``, the whole loop in one ``tf.function``.

        Args:
            mel: (batch, frames, n_mels) log-mel frames.
            num_samples: samples to draw (default ``frames * hop_length``).
            seed: noise seed; sample ``t`` uses :meth:`draw_noise_t` ``(t, batch, seed)``.
            temperature: divides the logits.
            return_outputs: also return the logits of every step (batch, num_samples, ...).

        Returns:
            int32 ids [, logits]; :meth:`ids_to_audio` turns ids into a waveform.

        Example:
            >>> audio = m.ids_to_audio(m.generate(mel, seed=1))   # doctest: +SKIP
        """
        mel = tf.convert_to_tensor(mel, tf.float32)
        total = int(mel.shape[1]) * self.hop_length
        n = total if num_samples is None else int(num_samples)
        if n > total:
            raise ValueError(f"num_samples={n} exceeds the {total} samples that mel conditions")
        return self._compiled(bool(return_outputs))(
            mel, tf.constant(int(seed), tf.int32), tf.constant(float(temperature), tf.float32), tf.constant(n))

    def ids_to_audio(self, ids):
        """Ids -> waveform in [-1, 1]: mu-law decoding, or 16-bit ids ``(id + 0.5) / 32768 - 1``."""
        if self.coarse_fine:
            return (ops.cast(ids, "float32") + 0.5) / 32768.0 - 1.0
        return mu_law_decode_ops(ids, self.quantization_channels)

    def default_loss(self):
        """Sparse categorical cross-entropy on the logits (nats per class decision)."""
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def bits_per_sample(self, targets, logits) -> float:
        """Mean negative log2-likelihood of ``targets`` per audio sample (coarse + fine bits for 16-bit)."""
        logp = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        lp = ops.take_along_axis(logp, ops.expand_dims(ops.cast(targets, "int32"), -1), axis=-1)[..., 0]
        bits = -ops.convert_to_numpy(lp) / np.log(2.0)
        return float(bits.sum(-1).mean() if self.coarse_fine else bits.mean())

    # ---------------------------------------------------------------- export
    def export_endpoints(self, batch_size=1, mel_frames=8):
        """``[(name, fn, specs)]`` with every shape fixed:

        - ``"step"``: ``(x_prev (B,) int32, state_0[, state_1], cond_t (B, cond_channels), noise)`` ->
          ``[ids (B,) int32, logits, new_state_0[, new_state_1]]``; feed ``ids`` back as ``x_prev``.
        - ``"condition"``: mel (B, mel_frames, n_mels) -> (B, mel_frames * hop_length, cond_channels).
        """
        def step(x_prev, states, cond_t, noise):
            ids, logits, new_states = self.step(x_prev, states, cond_t, noise)
            return [ids, logits], new_states

        step_fn, specs = explicit_state_step(
            step, [tf.TensorSpec((batch_size,), tf.int32, name="x_prev")], self.state_shapes(batch_size),
            [tf.TensorSpec((batch_size, self.cond_channels), tf.float32, name="cond_t"),
             tf.TensorSpec(self.noise_shape(batch_size), tf.float32, name="noise")])

        def condition_fn(mel):
            return self.condition(mel)

        return [
            ("step", step_fn, specs, "one audio sample with explicit GRU state, Gumbel-max sampling from noise"),
            ("condition", condition_fn, [tf.TensorSpec((batch_size, int(mel_frames), self.n_mels), tf.float32, name="mel")],
             "log-mel frames -> per-sample conditioning"),
        ]


# ------------------------------------------------------------------------------- data
def audio_to_16bit(audio):
    """Waveform in [-1, 1] -> int32 ids in [0, 65535] (``floor((x + 1) * 32768)``, clipped)."""
    x = ops.clip(ops.cast(audio, "float32"), -1.0, 1.0)
    return ops.cast(ops.clip(ops.floor((x + 1.0) * 32768.0), 0.0, 65535.0), "int32")


def wavernn_pairs(audio, mel, output="mulaw", quantization_channels=256):
    """Waveform (batch, time) and its log-mel (batch, time / hop, n_mels) -> teacher-forcing ``(inputs, targets)``.

    ``mulaw``: targets (batch, time) mu-law ids; ``coarse_fine``: targets (batch, time, 2) (coarse, fine) parts
    of 16-bit ids, plus ``inputs["coarse_ids"]``. ``inputs["audio_ids"]`` are the ids shifted right by one with the
    silence id first.

    Example:
        >>> x, y = wavernn_pairs(np.zeros((1, 4), "float32"), np.zeros((1, 1, 8), "float32"))
        >>> np.asarray(x["audio_ids"]).tolist(), np.asarray(y).tolist()
        ([[128, 128, 128, 128]], [[128, 128, 128, 128]])
    """
    if output == "mulaw":
        ids = mu_law_encode_ops(audio, quantization_channels)
        first = ops.full_like(ids[:, :1], quantization_channels // 2)
    else:
        ids = audio_to_16bit(audio)
        first = ops.full_like(ids[:, :1], SILENCE_16BIT)
    inputs = {"audio_ids": ops.concatenate([first, ids[:, :-1]], axis=1), "mel": ops.convert_to_tensor(mel, "float32")}
    if output == "mulaw":
        return inputs, ids
    inputs["coarse_ids"] = ids // 256
    return inputs, ops.stack([ids // 256, ids % 256], axis=-1)


def wavernn_dataset(source, segment_length, batch_size, mel_config, output="mulaw", quantization_channels=256,
                    **segment_kwargs):
    """Teacher-forcing batches from audio files (via :func:`audiogen_tf.data.segment_dataset`).

    Args:
        source: manifest, folder, glob or entries.
        segment_length: samples per example (a multiple of ``mel_config.hop_length``).
        batch_size: examples per batch.
        mel_config: :class:`audiogen_tf.features.MelConfig` (or its dict) of the conditioning.
        output, quantization_channels: as in :class:`WaveRNN`.
        **segment_kwargs: ``shuffle``, ``seed``, ``repeat``, ``cache``...

    Returns:
        ``tf.data.Dataset`` of :func:`wavernn_pairs`.

    Example:
        >>> ds = wavernn_dataset("notes/manifest.csv", 1024, 16, MelConfig(16000, 512, 128, 512, 40))  # doctest: +SKIP
    """
    from audiogen_tf.data import segment_dataset
    from audiogen_tf.features import MelConfig

    cfg = mel_config if isinstance(mel_config, MelConfig) else MelConfig.from_dict(dict(mel_config))
    ds = segment_dataset(source, segment_length, batch_size, mel_config=cfg, **segment_kwargs)
    return ds.map(lambda el: wavernn_pairs(el["audio"], el["mel"], output, quantization_channels),
                  num_parallel_calls=tf.data.AUTOTUNE)

"""FrameRNN: a stacked LSTM / GRU that predicts the next log-mel frame from the previous ones.

Teacher forcing trains it with plain ``compile`` / ``fit`` (L1 or L2 on the next frame, :func:`frame_pairs`);
:meth:`FrameRNN.generate` runs the whole autoregressive loop in one ``tf.function``; :meth:`FrameRNN.step` is the
explicit-state single step that :meth:`FrameRNN.export_endpoints` exports to a builtin-ops ``.tflite``;
:meth:`FrameRNN.to_audio` turns frames into a waveform with Griffin-Lim or any vocoder.

Example:
    >>> import numpy as np
    >>> m = FrameRNN.from_preset("frame_rnn_tiny")
    >>> mel = np.random.normal(-5, 2, (2, 10, m.n_mels)).astype("float32")
    >>> x, y = frame_pairs(mel)                       # (2, 9, n_mels) each
    >>> tuple(m(x).shape)
    (2, 9, 40)
    >>> tuple(m.generate(5, priming=mel[:, :3]).shape)
    (2, 5, 40)

Follows the frame-level autoregressive decoders of Tacotron 2 (Shen et al. 2018, arXiv:1712.05884) and
MelNet-style next-frame prediction, without attention; LSTM: Hochreiter & Schmidhuber 1997, GRU: Cho et al. 2014.
"""

from __future__ import annotations

import math
import weakref

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from audiogen_tf.features import CarriesFeatures
from audiogen_tf.layers.recurrent import RecurrentStack, explicit_state_step
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register

_COMPILED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@register
class FrameRNN(CarriesFeatures, ConstructorConfigMixin, PresetMixin, keras.Model):
    """Next-frame predictor: frames (batch, time, n_mels) -> predicted next frames (batch, time, n_mels).

    Output ``t`` estimates frame ``t + 1`` from frames ``0..t``. Inputs are the frames tensor, or a dict with
    ``"frames"``, ``"class_id"`` (batch,) int32 when ``num_classes > 0`` and ``"condition"`` (batch,
    condition_dim) when ``condition_dim > 0`` (e.g. a text or speaker embedding: the text-embedding hook).

    Args:
        n_mels: bands per frame.
        units: hidden size of every recurrent layer.
        num_layers: stacked recurrent layers.
        cell_type: ``"lstm"`` or ``"gru"``.
        prenet_units: width of the two-layer ReLU pre-net on the input frame (0: none).
        num_classes, class_dim: class embedding added to every step's input (0 classes: none).
        condition_dim: width of a conditioning vector input (0: none).
        residual_output: predict ``frame_t + delta`` (the output layer starts at zero, so an untrained model
            copies the last frame) instead of the frame itself.
        feature_mean, feature_std: fixed standardisation of log-mel values at the input / the delta scale.
        silence_value: log-mel value of the start frame used when :meth:`generate` gets no priming
            (``log(1e-5)``, the floor of :meth:`audiogen_tf.features.MelConfig.log_mel`).
        mel_config: dict of :class:`audiogen_tf.features.MelConfig` of the frames, used by :meth:`to_audio`
            (``None``: the model carries no mel settings and ``to_audio`` needs a ``vocoder``).

    Example:
        >>> m = FrameRNN(n_mels=16, units=32, num_layers=2, cell_type="gru", num_classes=4)
        >>> out = m({"frames": np.zeros((1, 5, 16), "float32"), "class_id": np.array([2], "int32")})
        >>> tuple(out.shape)
        (1, 5, 16)

    Paper: Shen et al. 2018 (Tacotron 2's autoregressive frame decoder with pre-net), teacher forcing.
    """

    def __init__(
        self,
        n_mels=80,
        units=256,
        num_layers=2,
        cell_type="lstm",
        prenet_units=128,
        num_classes=0,
        class_dim=16,
        condition_dim=0,
        residual_output=True,
        feature_mean=-5.0,
        feature_std=3.0,
        silence_value=math.log(1e-5),
        mel_config=None,
        name="frame_rnn",
        **kwargs,
    ):
        n_mels, units, num_layers = int(n_mels), int(units), int(num_layers)
        prenet_units, num_classes, class_dim, condition_dim = int(prenet_units), int(num_classes), int(class_dim), int(condition_dim)
        frames = keras.Input((None, n_mels), name="frames")
        inputs = {"frames": frames}
        norm = keras.layers.Rescaling(1.0 / float(feature_std), offset=-float(feature_mean) / float(feature_std),
                                      name="standardize")
        h = norm(frames)
        if prenet_units:
            h = keras.layers.Dense(prenet_units, activation="relu", name="prenet_0")(h)
            h = keras.layers.Dense(prenet_units, activation="relu", name="prenet_1")(h)
        extra = []
        if num_classes:
            cid = inputs["class_id"] = keras.Input((), dtype="int32", name="class_id")
            extra.append(keras.layers.Embedding(num_classes, class_dim, name="class_embedding")(cid))
        if condition_dim:
            extra.append(inputs.setdefault("condition", keras.Input((condition_dim,), name="condition")))
        if extra:
            c = extra[0] if len(extra) == 1 else keras.layers.Concatenate(name="cond_concat")(extra)
            c = BroadcastTime(name="cond_broadcast")([c, h])
            h = keras.layers.Concatenate(name="rnn_input")([h, c])
        rnn = RecurrentStack(units, num_layers, cell_type, residual=True, name="rnn")
        h = rnn(h)
        out_layer = keras.layers.Dense(
            n_mels, name="frame_out", kernel_initializer="zeros" if residual_output else "glorot_uniform"
        )
        y = out_layer(h)
        if residual_output:
            y = keras.layers.Rescaling(float(feature_std), name="delta_scale")(y)
            y = keras.layers.Add(name="next_frame")([frames, y])
        super().__init__(inputs=inputs if len(inputs) > 1 else frames, outputs=y, name=name, **kwargs)

        self.keep_config(n_mels=n_mels, units=units, num_layers=num_layers, cell_type=cell_type,
                         prenet_units=prenet_units, num_classes=num_classes, class_dim=class_dim,
                         condition_dim=condition_dim, residual_output=bool(residual_output),
                         feature_mean=float(feature_mean), feature_std=float(feature_std),
                         silence_value=float(silence_value), mel_config=dict(mel_config) if mel_config else None)

    # ---------------------------------------------------------------- single step
    @property
    def rnn(self) -> RecurrentStack:
        return self.get_layer("rnn")

    def state_shapes(self, batch_size=1) -> list[tuple]:
        """Shapes of the flat recurrent state: ``(batch, units)`` per LSTM ``h``/``c`` or GRU ``h`` per layer."""
        return self.rnn.state_shapes(batch_size)

    def initial_states(self, batch_size=1) -> list:
        """Zero states for :meth:`step`."""
        return self.rnn.initial_states(batch_size)

    def _cond_vector(self, class_id=None, condition=None):
        parts = []
        if self.num_classes:
            if class_id is None:
                raise ValueError("this FrameRNN has class conditioning: pass class_id (batch,)")
            parts.append(self.get_layer("class_embedding")(ops.cast(class_id, "int32")))
        if self.condition_dim:
            if condition is None:
                raise ValueError(f"this FrameRNN takes a conditioning vector: pass condition (batch, {self.condition_dim})")
            parts.append(ops.cast(condition, "float32"))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=-1)

    def step(self, frame, states, class_id=None, condition=None):
        """One frame with explicit state.

        Args:
            frame: the current frame (batch, n_mels).
            states: flat list of (batch, units) state tensors (:meth:`initial_states` at the start).
            class_id: (batch,) int32 when ``num_classes > 0``.
            condition: (batch, condition_dim) when ``condition_dim > 0``.

        Returns:
            ``(next_frame (batch, n_mels), new_states)``; equal to the teacher-forced output at this step.
        """
        frame = ops.cast(frame, "float32")
        h = self.get_layer("standardize")(frame)
        if self.prenet_units:
            h = self.get_layer("prenet_1")(self.get_layer("prenet_0")(h))
        c = self._cond_vector(class_id, condition)
        if c is not None:
            h = ops.concatenate([h, c], axis=-1)
        h, states = self.rnn.step(h, states)
        y = self.get_layer("frame_out")(h)
        if self.residual_output:
            y = frame + y * self.feature_std
        return y, states

    # ---------------------------------------------------------------- generation
    def _compiled_generate(self):
        if self not in _COMPILED:
            def run(num_frames, priming, class_id, condition):
                batch = tf.shape(priming)[0]
                states = self.initial_states(1)
                states = [tf.tile(s, [batch, 1]) for s in states]
                num_priming = tf.shape(priming)[1]
                out_ta = tf.TensorArray(tf.float32, size=num_frames, element_shape=tf.TensorShape([None, self.n_mels]))

                def prime_body(t, frame, states):
                    y, states = self.step(priming[:, t], states, class_id, condition)
                    return t + 1, y, states

                _, first, states = tf.while_loop(
                    lambda t, *_: t < num_priming, prime_body, (tf.constant(0), priming[:, 0], states),
                )

                def gen_body(t, frame, states, out_ta):
                    out_ta = out_ta.write(t, frame)
                    y, states = self.step(frame, states, class_id, condition)
                    return t + 1, y, states, out_ta

                _, _, _, out_ta = tf.while_loop(
                    lambda t, *_: t < num_frames, gen_body, (tf.constant(0), first, states, out_ta)
                )
                return tf.transpose(out_ta.stack(), [1, 0, 2])

            _COMPILED[self] = tf.function(run, reduce_retracing=True)
        return _COMPILED[self]

    def generate(self, num_frames, priming=None, class_id=None, condition=None, batch_size=1):
        """Generate ``num_frames`` frames after ``priming``, the whole loop in one ``tf.function``.

        Args:
            num_frames: frames to generate.
            priming: (batch, frames, n_mels) frames fed first (teacher-forced); default one silent frame.
            class_id: (batch,) int32 classes (models with ``num_classes > 0``).
            condition: (batch, condition_dim) conditioning vectors (models with ``condition_dim > 0``).
            batch_size: used when nothing else gives the batch.

        Returns:
            (batch, num_frames, n_mels) float32: the frames that follow the priming.

        Example:
            >>> frames = FrameRNN.from_preset("frame_rnn_tiny").generate(20)   # (1, 20, 40)
        """
        if class_id is not None:
            class_id = tf.reshape(tf.convert_to_tensor(class_id, tf.int32), [-1])
            batch_size = int(class_id.shape[0])
        if condition is not None:
            condition = tf.convert_to_tensor(condition, tf.float32)
            batch_size = int(condition.shape[0])
        if priming is None:
            priming = tf.fill([batch_size, 1, self.n_mels], tf.constant(self.silence_value, tf.float32))
        priming = tf.convert_to_tensor(priming, tf.float32)
        if priming.shape.rank != 3 or int(priming.shape[1]) < 1:
            raise ValueError(f"priming must be (batch, frames >= 1, {self.n_mels}), got {tuple(priming.shape)}")
        return self._compiled_generate()(tf.constant(int(num_frames)), priming, class_id, condition)

    def get_mel_config(self):
        """The :class:`audiogen_tf.features.MelConfig` of the frames (``ConfigError`` without ``mel_config``)."""
        return self.feature_settings

    def to_audio(self, frames, vocoder=None, n_iter=32, seed=0):
        """Frames (batch, frames, n_mels) -> waveform (batch, time): ``vocoder(frames)`` or Griffin-Lim.

        Args:
            frames: log-mel frames in the :meth:`get_mel_config` convention.
            vocoder: any callable mel -> audio (e.g. a HiFi-GAN generator; a trailing channel axis is dropped);
                None uses :func:`audiogen_tf.features.log_mel_to_audio`.
            n_iter, seed: Griffin-Lim iterations and initial phase seed.
        """
        if vocoder is not None:
            audio = vocoder(frames)
            audio = ops.convert_to_tensor(audio)
            return audio[..., 0] if len(audio.shape) == 3 else audio
        from audiogen_tf.features import log_mel_to_audio

        return log_mel_to_audio(frames, self.get_mel_config(), n_iter=n_iter, seed=seed)

    # ---------------------------------------------------------------- export
    def export_endpoints(self, batch_size=1):
        """``[("step", fn, specs)]``: one frame with explicit state, every shape fixed.

        ``step(frame (B, n_mels), state_0, ..., state_k [, class_id (B,) int32] [, condition (B, condition_dim)])
        -> [next_frame (B, n_mels), new_state_0, ..., new_state_k]``.
        """
        trailing = []
        if self.num_classes:
            trailing.append(tf.TensorSpec((batch_size,), tf.int32, name="class_id"))
        if self.condition_dim:
            trailing.append(tf.TensorSpec((batch_size, self.condition_dim), tf.float32, name="condition"))

        def step(frame, states, *rest):
            rest = list(rest)
            cid = rest.pop(0) if self.num_classes else None
            cond = rest.pop(0) if self.condition_dim else None
            return self.step(frame, states, cid, cond)

        step_fn, specs = explicit_state_step(step, [tf.TensorSpec((batch_size, self.n_mels), tf.float32, name="frame")],
                                             self.state_shapes(batch_size), trailing)
        return [("step", step_fn, specs, "one log-mel frame with explicit recurrent state")]


@register
class BroadcastTime(keras.layers.Layer):
    """Repeat a vector over the time axis of a reference: ``[(batch, c), (batch, time, d)] -> (batch, time, c)``."""

    def call(self, inputs):
        vec, ref = inputs
        return ops.zeros_like(ref[..., :1]) + ops.expand_dims(vec, 1)

    def compute_output_shape(self, input_shapes):
        vec, ref = input_shapes
        return (ref[0], ref[1], vec[-1])


# ------------------------------------------------------------------------------- data
def frame_pairs(log_mel):
    """Log-mel (batch, frames, n_mels) -> (previous frames, next frames), each (batch, frames - 1, n_mels).

    Example:
        >>> x, y = frame_pairs(np.arange(6, dtype="float32").reshape(1, 3, 2))
        >>> np.asarray(x).tolist(), np.asarray(y).tolist()
        ([[[0.0, 1.0], [2.0, 3.0]]], [[[2.0, 3.0], [4.0, 5.0]]])
    """
    return log_mel[:, :-1], log_mel[:, 1:]


def copy_last_frame_loss(log_mel, loss="l1") -> float:
    """Baseline: the mean L1 (or L2) error of predicting every next frame as a copy of the current one."""
    x = np.asarray(log_mel, np.float64)
    d = x[:, 1:] - x[:, :-1]
    return float(np.mean(np.abs(d)) if loss == "l1" else np.mean(d**2))


def frame_rnn_dataset(source, num_frames, batch_size, mel_config, label_key=None, condition_fn=None, **segment_kwargs):
    """Teacher-forcing batches ``(frames, next_frames)`` of log-mels (via :func:`audiogen_tf.data.segment_dataset`).

    Args:
        source: manifest, folder, glob or entries.
        num_frames: frames per example of the model input (segments of ``(num_frames + 1) * hop`` samples).
        batch_size: examples per batch.
        mel_config: :class:`audiogen_tf.features.MelConfig` (or its dict).
        label_key: manifest column used as ``"class_id"`` (batch,) int32 (e.g. ``"timbre"``).
        condition_fn: optional function of the element dict returning a (batch, condition_dim) ``"condition"``.
        **segment_kwargs: ``shuffle``, ``seed``, ``repeat``, ``cache``...

    Returns:
        ``tf.data.Dataset`` of ``(frames, targets)`` or ``({"frames", "class_id", "condition"}, targets)``,
        both (batch, num_frames, n_mels).

    Example:
        >>> ds = frame_rnn_dataset("notes/manifest.csv", 32, 8, MelConfig(16000, 512, 128, 512, 40))  # doctest: +SKIP
    """
    from audiogen_tf.data import segment_dataset
    from audiogen_tf.features import MelConfig

    cfg = mel_config if isinstance(mel_config, MelConfig) else MelConfig.from_dict(dict(mel_config))
    ds = segment_dataset(source, (int(num_frames) + 1) * cfg.hop_length, batch_size, mel_config=cfg,
                         label_key=label_key, **segment_kwargs)
    vocab = getattr(ds, "label_vocabulary", None)

    def to_pair(el):
        mel = el["mel"][:, : int(num_frames) + 1]
        x, y = frame_pairs(mel)
        if label_key is None and condition_fn is None:
            return x, y
        feats = {"frames": x}
        if label_key is not None:
            feats["class_id"] = tf.cast(el["label"], tf.int32)
        if condition_fn is not None:
            feats["condition"] = condition_fn(el)
        return feats, y

    out = ds.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE)
    if vocab is not None:
        out.label_vocabulary = vocab
    return out

"""CTC speech recognizer: log-mel -> strided CNN front end -> bidirectional LSTMs -> per-frame symbol logits.

The zoo's own intelligibility judge: trained with the CTC loss (Graves et al. 2006) on the built-in speech corpora,
it transcribes characters (or espeak-ng phonemes) of the :mod:`audiogen_tf.text` front end, and its character
error rate sits next to pocketsphinx's word error rate in ``audiogen evaluate``. Class 0 (the front end's padding
symbol) is the CTC blank, so the labels are the front end's ids without the end symbol.

Padding never leaks into the valid frames: the input is masked, each strided conv pads ``kernel // 2`` zeros on
both sides (so frame alignment does not depend on the padded length) and is masked again, and the BiLSTMs start
their backward pass at each sequence's real end. So the fixed-length TFLite endpoint (``export_endpoints``: mel
zero-padded to ``export_frames`` + its length) gives the unpadded model's logits on the valid frames.

Example:
    >>> import numpy as np
    >>> model = CTCRecognizer.from_preset("ctc_recognizer_tiny")
    >>> out = model({"mel": np.zeros((2, 40, 80), "float32"), "mel_lengths": np.array([40, 21])})
    >>> tuple(out["logits"].shape), np.asarray(out["logit_lengths"]).tolist()
    ((2, 10, 38), [10, 6])

Papers: Graves et al. 2006, "Connectionist Temporal Classification" (ICML); Amodei et al. 2016, "Deep Speech 2"
(arXiv:1512.02595; strided conv front end + bidirectional RNNs + CTC).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from audiogen_tf.alignment import ctc_decode, ctc_loss
from audiogen_tf.errors import ConfigError
from audiogen_tf.features import CarriesFeatures, complete_mel_config
from audiogen_tf.layers.sequence import ApplyMask, MaskFromLengths, StridedLengths, strided_conv
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register
from audiogen_tf.text import TextFrontEnd
from zoo.tacotron2.tacotron2_model import MaskedBiLSTM

@register
class SpecAugment(keras.layers.Layer):
    """Training-time frequency and time masking of a (batch, frames, bins) feature map (SpecAugment without warping).

    Each item gets ``freq_masks`` bands of up to ``freq_width`` bins and ``time_masks`` spans of up to ``time_width``
    frames set to zero (the mean of the rescaled log-mel); identity at inference.

    Paper: Park et al. 2019, "SpecAugment" (arXiv:1904.08779).
    """

    def __init__(self, freq_masks=0, freq_width=10, time_masks=0, time_width=20, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.freq_masks, self.freq_width = int(freq_masks), int(freq_width)
        self.time_masks, self.time_width = int(time_masks), int(time_width)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _masks(self, batch, size, count, width, axis):
        keep = None
        index = ops.arange(size, dtype="int32")
        index = ops.reshape(index, (1, 1, -1) if axis == 2 else (1, -1, 1))
        for _ in range(count):
            w = keras.random.randint((batch, 1, 1), 0, width + 1, seed=self.seed_generator)
            room = ops.cast(ops.maximum(size - w + 1, 1), "float32")
            u = keras.random.uniform((batch, 1, 1), seed=self.seed_generator)
            start = ops.minimum(ops.cast(ops.floor(u * room), "int32"), ops.cast(room, "int32") - 1)
            hit = ops.logical_and(index >= start, index < start + w)
            keep = ops.logical_not(hit) if keep is None else ops.logical_and(keep, ops.logical_not(hit))
        return keep

    def call(self, x, training=None):
        if not training or (self.freq_masks == 0 and self.time_masks == 0):
            return x
        b, t, f = ops.shape(x)[0], ops.shape(x)[1], ops.shape(x)[2]
        for keep in (self._masks(b, f, self.freq_masks, self.freq_width, 2),
                     self._masks(b, t, self.time_masks, self.time_width, 1)):
            if keep is not None:
                x = x * ops.cast(keep, x.dtype)
        return x

    def compute_output_shape(self, shape):
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "freq_masks": self.freq_masks, "freq_width": self.freq_width,
                "time_masks": self.time_masks, "time_width": self.time_width, "seed": self.seed}


@register
class CTCRecognizer(CarriesFeatures, ConstructorConfigMixin, PresetMixin, keras.Model):
    """Log-mel (batch, frames, n_mels) + lengths -> CTC logits (batch, ceil(frames / stride), symbols) + lengths.

    ``fit`` takes ``({"mel", "mel_lengths"}, {"labels", "label_lengths"})`` batches (:func:`ctc_recognizer_dataset`);
    the loss (CTC per label symbol, :func:`audiogen_tf.alignment.ctc_loss`) is computed in :meth:`compute_loss`, so
    ``compile(optimizer=...)`` needs no ``loss``.

    Args:
        frontend: :class:`~audiogen_tf.text.TextFrontEnd` config (``symbol_type`` characters or phonemes).
        mel_config: every :class:`MelConfig` field of the input features.
        conv_filters: channels of each strided conv; conv_strides: their time strides (product 2 or 4 typical).
        kernel_size: odd conv kernel (frames).
        lstm_units: units per direction of each BiLSTM layer; dropout: after the convs and each BiLSTM.
        input_scale, input_offset: ``log_mel * scale + offset`` brings the log-mel near zero mean, unit range.
        export_frames: mel frames of the fixed-length TFLite endpoint.
        spec_augment: ``{"freq_masks", "freq_width", "time_masks", "time_width"}`` of the training-time
            :class:`SpecAugment` (``None``: none), for robustness to voices never heard in training.
    """

    def __init__(self, frontend=None, mel_config=None, conv_filters=(256, 256), conv_strides=(2, 2), kernel_size=5,
                 lstm_units=(256, 256), dropout=0.1, input_scale=0.25, input_offset=1.25, export_frames=1024,
                 spec_augment=None, name="ctc_recognizer", **kwargs):
        cfg = complete_mel_config(mel_config, "CTCRecognizer")
        fe = TextFrontEnd.from_config(frontend) if frontend is not None else TextFrontEnd()
        conv_filters = [int(f) for f in conv_filters]
        conv_strides = [int(s) for s in conv_strides]
        lstm_units = [int(u) for u in lstm_units]
        if len(conv_filters) != len(conv_strides) or not conv_filters:
            raise ConfigError(f"conv_filters {conv_filters} and conv_strides {conv_strides} must have one entry per conv")
        vocab = len(fe.table)

        mel = keras.Input((None, cfg.n_mels), name="mel")
        mel_lengths = keras.Input((), dtype="int32", name="mel_lengths")
        lengths = mel_lengths
        x = keras.layers.Rescaling(float(input_scale), float(input_offset), name="input_scale")(mel)
        spec_augment = dict(spec_augment) if spec_augment else None
        if spec_augment:
            x = SpecAugment(**spec_augment, name="spec_augment")(x)
        mask = MaskFromLengths(name="mask_in")(x, lengths)
        x = ApplyMask(name="masked_in")(x, mask)
        for i, (f, s) in enumerate(zip(conv_filters, conv_strides)):
            x = strided_conv(x, f, int(kernel_size), s, name=f"conv{i}")
            x = keras.layers.LayerNormalization(name=f"conv{i}_norm")(x)
            x = keras.layers.Activation("relu", name=f"conv{i}_relu")(x)
            lengths = StridedLengths(s, name=f"lengths{i}")(lengths)
            mask = MaskFromLengths(name=f"mask{i}")(x, lengths)
            x = ApplyMask(name=f"masked{i}")(x, mask)
        x = keras.layers.Dropout(float(dropout), name="conv_dropout")(x)
        dim = conv_filters[-1]
        for i, u in enumerate(lstm_units):
            x = MaskedBiLSTM(u, dim, name=f"bilstm{i}")(x, mask)
            x = keras.layers.Dropout(float(dropout), name=f"bilstm{i}_dropout")(x)
            dim = 2 * u
        logits = keras.layers.Dense(vocab, name="logits", dtype="float32")(x)
        super().__init__(inputs={"mel": mel, "mel_lengths": mel_lengths},
                         outputs={"logits": logits, "logit_lengths": lengths}, name=name, **kwargs)
        self.keep_config(frontend=fe.get_config(), mel_config=cfg.to_dict(), conv_filters=conv_filters,
                         conv_strides=conv_strides, kernel_size=int(kernel_size), lstm_units=lstm_units,
                         dropout=float(dropout), input_scale=float(input_scale), input_offset=float(input_offset),
                         export_frames=int(export_frames), spec_augment=spec_augment)
        self.frontend = fe
        self.time_stride = int(np.prod(conv_strides))
        self.n_mels = cfg.n_mels
        self.sample_rate = cfg.sample_rate
        self._ctc_tracker = keras.metrics.Mean(name="ctc_loss")

    def get_config(self):
        return {**super().get_config(), "frontend": self.frontend.get_config()}

    # ------------------------------------------------------------------------------------------ text
    def labels_of(self, text: str) -> np.ndarray:
        """The CTC target of a transcript: front-end ids without the end symbol (int32)."""
        return np.asarray(self.frontend.table.to_ids(self.frontend.to_symbols(text), add_eos=False), np.int32)

    # ------------------------------------------------------------------------------------------ training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """CTC loss per label symbol; ``y`` = ``{"labels", "label_lengths"}``."""
        loss = ctc_loss(y["labels"], y_pred["logits"], y["label_lengths"], y_pred["logit_lengths"], blank=0)
        self._ctc_tracker.update_state(loss)
        return loss

    # ------------------------------------------------------------------------------------------ inference
    def decode(self, logits, logit_lengths, beam_width=1) -> list[str]:
        """Logits -> texts (greedy for ``beam_width=1``, else beam search) in the front end's symbols."""
        return [self.frontend.table.from_ids(ids) for ids in ctc_decode(logits, logit_lengths, beam_width, blank=0)]

    def transcribe_mel(self, mels, beam_width=1) -> list[str]:
        """A list of log-mels (frames, n_mels) -> their transcripts (one padded batch)."""
        mels = [np.asarray(m, np.float32) for m in mels]
        lengths = np.array([len(m) for m in mels], np.int32)
        floor = float(np.log(self.feature_settings.log_floor))
        batch = np.full((len(mels), int(lengths.max()), self.n_mels), floor, np.float32)
        for i, m in enumerate(mels):
            batch[i, : len(m)] = m
        out = self({"mel": batch, "mel_lengths": lengths}, training=False)
        return self.decode(out["logits"], out["logit_lengths"], beam_width)

    def transcribe(self, audio, sr: int | None = None, beam_width=1) -> str:
        """Mono audio (samples,) at the model's sample rate (resampled from ``sr`` if given) -> transcript."""
        audio = np.asarray(audio, np.float32).reshape(-1)
        if sr is not None and int(sr) != self.sample_rate:
            from audiogen_tf.audio import resample

            audio = np.asarray(resample(audio, int(sr), self.sample_rate), np.float32)
        return self.transcribe_mel([np.asarray(self.features_of(tf.constant(audio)))], beam_width)[0]

    # ------------------------------------------------------------------------------------------ export
    def export_endpoints(self, frames=None):
        """``[("logits", fn, specs)]``: mel (1, frames, n_mels) zero- or floor-padded + its length (1,) ->
        ``logits`` (1, ceil(frames / stride), symbols) and ``logit_lengths`` (1,). Static shapes, builtin ops."""
        n = int(frames or self.export_frames)

        def logits(mel, mel_lengths):
            out = self({"mel": mel, "mel_lengths": mel_lengths}, training=False)
            return {"logits": out["logits"], "logit_lengths": out["logit_lengths"]}

        return [("logits", logits, [tf.TensorSpec((1, n, self.n_mels), tf.float32, name="mel"),
                                    tf.TensorSpec((1,), tf.int32, name="mel_lengths")],
                 f"log-mel padded to {n} frames + its length -> CTC logits")]


def ctc_recognizer_dataset(source, frontend, batch_size, mel_config, bucket_boundaries=None, **kwargs):
    """Padded ``({"mel", "mel_lengths"}, {"labels", "label_lengths"})`` batches for :class:`CTCRecognizer`.

    Args:
        source: manifest / folder / entries with a ``text`` column.
        frontend: a :class:`TextFrontEnd` or its config (``model.frontend``).
        batch_size: utterances per batch; mel_config: the model's :class:`MelConfig`.
        bucket_boundaries: audio lengths (samples) separating length buckets.
        **kwargs: passed to :func:`audiogen_tf.data.utterance_dataset`.
    """
    from audiogen_tf.data import utterance_dataset

    if isinstance(frontend, dict):
        frontend = TextFrontEnd.from_config(frontend)
    ds = utterance_dataset(source, batch_size, mel_config=mel_config, bucket_boundaries=bucket_boundaries,
                           text_key="text", **kwargs)
    report = ds.skip_report

    def labels_py(texts):
        seqs = [frontend.table.to_ids(frontend.to_symbols(t.decode("utf-8")), add_eos=False) for t in texts.numpy()]
        lengths = np.array([len(s) for s in seqs], np.int32)
        out = np.zeros((len(seqs), max(1, int(lengths.max()))), np.int32)
        for i, s in enumerate(seqs):
            out[i, : len(s)] = s
        return out, lengths

    def to_pair(batch):
        labels, label_lengths = tf.py_function(labels_py, [batch["text"]], [tf.int32, tf.int32])
        labels.set_shape([None, None])
        label_lengths.set_shape([None])
        return ({"mel": batch["mel"], "mel_lengths": tf.cast(batch["mel_length"], tf.int32)},
                {"labels": labels, "label_lengths": label_lengths})

    ds = ds.map(to_pair)
    ds.skip_report = report
    return ds

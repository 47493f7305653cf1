"""Frame-rate iSTFT vocoder: log-mel frames -> log-amplitude and phase per STFT frame -> inverse STFT.

All the network's work is at the frame rate (1 / hop of the sample rate): a ConvNeXt stack over the mel
frames (Vocos), an amplitude head that refines the pseudo-inverse of the mel filterbank (FreeV's amplitude
prior) and a phase head that predicts a pseudo real and imaginary part and takes their angle (APNet2's
parallel phase estimation); an :class:`~audiogen_tf.layers.istft.InverseSTFT` made of builtin TFLite ops turns
them into audio. There is no upsampling stack, so no frame-rate comb, and synthesis costs one matmul-sized pass
per frame.

Papers: Siuzdak 2023, "Vocos: Closing the gap between time-domain and Fourier-based neural vocoders"
(arXiv:2306.00814); Ai & Ling 2023, "APNet" (arXiv:2305.07952) and Du, Ai & Ling 2023, "APNet2"
(arXiv:2311.11545); Lv et al. 2024, "FreeV" (arXiv:2406.08196); Liu et al. 2022, "A ConvNet for the 2020s"
(ConvNeXt blocks).
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from audiogen_tf.features import CarriesFeatures, MelConfig, complete_mel_config, mel_filterbank
from audiogen_tf.layers.istft import InverseSTFT, consistent_audio
from audiogen_tf.registry import ConstructorConfigMixin, PresetMixin
from audiogen_tf.serialization import register

PHASE_HEADS = ("atan2", "direct")
AMPLITUDE_PRIORS = ("pinv", "none")
def feature_config(mel_config) -> MelConfig:
    """The vocoder's mel settings as a :class:`MelConfig`; every field must be given (no silent defaults)."""
    return complete_mel_config(mel_config, "ISTFTVocoder")


@register
class LayerScale(keras.layers.Layer):
    """Per-channel learnable scale ``gamma * x`` (ConvNeXt's layer scale), ``gamma`` initialised to ``init``."""

    def __init__(self, init=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.init = float(init)

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer=keras.initializers.Constant(self.init),
                                     name="gamma")

    def call(self, x):
        return x * ops.cast(self.gamma, x.dtype)

    def get_config(self):
        return {**super().get_config(), "init": self.init}


@register
class AmplitudePrior(keras.layers.Layer):
    """log-mel (batch, frames, n_mels) -> log of the pseudo-inverse mel amplitude (batch, frames, bins) (FreeV).

    ``log(max(exp(log_mel) @ pinv(M)^T, floor))`` with ``M`` the model's mel filterbank: the linear-frequency
    amplitude that best explains the mel in least squares, the starting point the network refines.
    """

    def __init__(self, mel_config=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.mel_config = feature_config(mel_config).to_dict()
        cfg = MelConfig.from_dict(self.mel_config)
        fb = mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax, cfg.htk, cfg.norm)
        self._pinv_t = np.linalg.pinv(np.asarray(fb, np.float64)).astype(np.float32)  # fb (bins, n_mels) -> (n_mels, bins)
        self._log_floor = float(math.log(cfg.log_floor))
        self._power = float(cfg.power)

    def call(self, log_mel):
        mel = ops.exp(ops.cast(log_mel, "float32"))
        amp = ops.matmul(mel, ops.convert_to_tensor(self._pinv_t))
        amp = ops.maximum(amp, math.exp(self._log_floor))
        log_amp = ops.log(amp)
        return log_amp / self._power if self._power != 1.0 else log_amp

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self._pinv_t.shape[1])

    def get_config(self):
        return {**super().get_config(), "mel_config": self.mel_config}


@register
class PolarToComplex(keras.layers.Layer):
    """(log-amplitude, phase) -> (real, imag) with the log-amplitude clipped at ``max_log_amplitude``."""

    def __init__(self, max_log_amplitude=7.0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.max_log_amplitude = float(max_log_amplitude)

    def call(self, log_amp, phase):
        amp = ops.exp(ops.minimum(ops.cast(log_amp, "float32"), self.max_log_amplitude))
        phase = ops.cast(phase, "float32")
        return amp * ops.cos(phase), amp * ops.sin(phase)

    def compute_output_shape(self, log_amp_shape, phase_shape=None):
        return tuple(log_amp_shape), tuple(log_amp_shape)

    def get_config(self):
        return {**super().get_config(), "max_log_amplitude": self.max_log_amplitude}


@register
class Angle(keras.layers.Layer):
    """Phase ``atan2(imag, real)`` of a pseudo real and imaginary part (APNet's parallel phase estimation)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)

    def call(self, real, imag):
        real = ops.cast(real, "float32")
        imag = ops.cast(imag, "float32")
        # atan2 has no gradient at the origin: nudge an exact (0, 0) onto the positive real axis
        real = ops.where(ops.logical_and(ops.equal(real, 0.0), ops.equal(imag, 0.0)), 1e-12, real)
        return ops.arctan2(imag, real)

    def compute_output_shape(self, real_shape, imag_shape=None):
        return tuple(real_shape)


def convnext_block(x, dim, intermediate_dim, kernel_size, layer_scale, name):
    """ConvNeXt block over frames: depthwise conv, LayerNorm, Dense -> GELU -> Dense, layer scale, residual."""
    y = keras.layers.DepthwiseConv1D(kernel_size, padding="same", name=f"{name}_dwconv")(x)
    y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm")(y)
    y = keras.layers.Dense(intermediate_dim, name=f"{name}_pwconv1")(y)
    y = keras.layers.Activation("gelu", name=f"{name}_gelu")(y)
    y = keras.layers.Dense(dim, name=f"{name}_pwconv2")(y)
    y = LayerScale(layer_scale, name=f"{name}_scale")(y)
    return keras.layers.Add(name=f"{name}_add")([x, y])


@register
class ISTFTVocoder(CarriesFeatures, ConstructorConfigMixin, PresetMixin, keras.Model):
    """Frame-rate iSTFT vocoder: mel (batch, frames, n_mels) -> audio (batch, frames * hop_length, 1).

    Every frame's log-amplitude and phase for the ``n_fft // 2 + 1`` bins of the model's own STFT come from a
    ConvNeXt stack at the frame rate; the inverse STFT (fixed-basis matmul + overlap-add, builtin TFLite ops)
    makes ``frames * hop_length`` samples, the same convention as the GAN vocoders. The model carries its mel
    settings (``mel_config``), so a saved ``.keras`` file alone computes its own input features
    (:meth:`features_of`) and synthesizes.

    Args:
        mel_config: dict (or :class:`MelConfig`) of every mel setting the model was trained with; the inverse
            STFT uses its ``n_fft``, ``hop_length`` and ``win_length``.
        dim: channels of the ConvNeXt stack.
        intermediate_dim: hidden width of each block's MLP.
        num_blocks: ConvNeXt blocks.
        kernel_size: depthwise kernel (frames) of each block and of the input conv.
        phase_head: ``"atan2"`` (two dense heads, phase = angle of their pseudo complex value; APNet2) or
            ``"direct"`` (one dense head whose output is the phase; Vocos).
        amplitude_prior: ``"pinv"`` (log-amplitude = log pseudo-inverse-mel amplitude + predicted residual; FreeV)
            or ``"none"`` (predicted directly; Vocos).
        layer_scale: initial layer scale (default ``1 / num_blocks``, as Vocos).
        max_log_amplitude: log-amplitudes are clipped here before ``exp``.
        istft_padding: samples the inverse STFT trims at the start: ``"center"`` (``n_fft // 2``; the frames of a
            centred STFT, as the mel), ``"same"`` (``(win - hop) // 2``; Vocos), ``"none"``; default ``"center"``
            when the mel is centred, else ``"none"``.

    Example:
        >>> import numpy as np
        >>> v = ISTFTVocoder.from_preset("istft_vocoder_tiny")
        >>> tuple(v(np.zeros((1, 10, 80), "float32")).shape)
        (1, 2560, 1)
    """

    def __init__(
        self,
        mel_config=None,
        dim=384,
        intermediate_dim=1152,
        num_blocks=8,
        kernel_size=7,
        phase_head="atan2",
        amplitude_prior="pinv",
        layer_scale=None,
        max_log_amplitude=7.0,
        istft_padding=None,
        name="istft_vocoder",
        **kwargs,
    ):
        if mel_config is None:
            raise ValueError("ISTFTVocoder needs mel_config: the feature settings it is trained with "
                             "(e.g. MelConfig(...).to_dict()); presets give the HiFi-GAN mel")
        cfg = feature_config(mel_config)
        if phase_head not in PHASE_HEADS:
            raise ValueError(f"phase_head must be one of {PHASE_HEADS}, got {phase_head!r}")
        if amplitude_prior not in AMPLITUDE_PRIORS:
            raise ValueError(f"amplitude_prior must be one of {AMPLITUDE_PRIORS}, got {amplitude_prior!r}")
        dim, intermediate_dim, num_blocks, kernel_size = int(dim), int(intermediate_dim), int(num_blocks), int(kernel_size)
        scale = float(layer_scale) if layer_scale is not None else 1.0 / max(1, num_blocks)
        if istft_padding is None:
            istft_padding = "center" if cfg.center else "none"
        bins = cfg.n_fft // 2 + 1

        mel = keras.Input((None, cfg.n_mels), name="mel")
        x = keras.layers.Conv1D(dim, kernel_size, padding="same", name="embed")(mel)
        x = keras.layers.LayerNormalization(epsilon=1e-6, name="embed_norm")(x)
        for i in range(num_blocks):
            x = convnext_block(x, dim, intermediate_dim, kernel_size, scale, name=f"block{i}")
        x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
        log_amp = keras.layers.Dense(bins, name="amplitude", dtype="float32")(x)
        if amplitude_prior == "pinv":
            prior = AmplitudePrior(cfg.to_dict(), name="amplitude_prior")(mel)
            log_amp = keras.layers.Add(name="log_amplitude", dtype="float32")([prior, log_amp])
        if phase_head == "atan2":
            re = keras.layers.Dense(bins, name="phase_real", dtype="float32")(x)
            im = keras.layers.Dense(bins, name="phase_imag", dtype="float32")(x)
            phase = Angle(name="phase")(re, im)
        else:
            phase = keras.layers.Dense(bins, name="phase", dtype="float32")(x)
        polar = PolarToComplex(max_log_amplitude, name="polar")
        istft = InverseSTFT(cfg.n_fft, cfg.hop_length, cfg.win_length, padding=istft_padding, output_length="frames",
                            name="istft")
        real, imag = polar(log_amp, phase)
        audio = istft(real, imag)
        audio = keras.layers.Reshape((-1, 1), name="audio", dtype="float32")(audio)
        super().__init__(inputs=mel, outputs=audio, name=name, **kwargs)

        self.keep_config(mel_config=cfg.to_dict(), dim=dim, intermediate_dim=intermediate_dim, num_blocks=num_blocks,
                         kernel_size=kernel_size, phase_head=phase_head, amplitude_prior=amplitude_prior,
                         layer_scale=scale, max_log_amplitude=float(max_log_amplitude), istft_padding=istft_padding)
        self.hop_length = cfg.hop_length
        self.n_mels = cfg.n_mels
        self.sample_rate = cfg.sample_rate
        # the same layers, stopping before the inverse STFT: what the spectral losses see
        self.spectrum_generator = keras.Model(mel, [log_amp, phase], name=f"{name}_spectrum")
        self.polar = polar
        self.istft = istft

    #: loss terms this vocoder computes itself (a trainer asks for them by name: the recipe's ``losses``)
    SUPPLIED_LOSSES = ("amplitude", "phase", "real_imag", "consistency", "weighted_phase", "frame_rate_correlation")

    def supplied_losses(self, mel, audio, names, options=None, training=True):
        """``(audio (batch, time, 1), {name: loss})``: the generated audio and the frame-level terms ``names`` (of
        :data:`SUPPLIED_LOSSES`) against the recording ``audio`` (batch, time, 1), from one forward pass that stops
        before the inverse STFT (:func:`audiogen_tf.losses.spectral_losses`; ``phase`` = IP + GD + IAF,
        ``weighted_phase`` = energy-weighted GD + IAF with ``options["weighted_phase_exponent"]``, default 0.25).

        Papers: Ai & Ling 2023 (APNet), Du et al. 2023 (APNet2).
        """
        from audiogen_tf import losses as L

        log_amp, phase = self.spectrum_generator(mel, training=training)
        fake = ops.cast(self.spectrum_to_audio(log_amp, phase), "float32")
        real, fake_c = L.crop_to_common_length(ops.cast(audio, "float32"), fake)
        t = L.spectral_losses(real, log_amp, phase, fake_c, self.feature_settings,
                              weighted_phase_exponent=float((options or {}).get("weighted_phase_exponent", 0.25)))
        terms = {"amplitude": t["amplitude"], "phase": t["ip"] + t["gd"] + t["iaf"], "real_imag": t["real_imag"],
                 "consistency": t["consistency"], "weighted_phase": t["gd_weighted"] + t["iaf_weighted"],
                 "frame_rate_correlation": t["frame_rate_correlation"]}
        return fake, {name: terms[name] for name in names}

    def spectrum_to_audio(self, log_amp, phase):
        """(log-amplitude, phase) (batch, frames, bins) -> audio (batch, frames * hop, 1)."""
        real, imag = self.polar(log_amp, phase)
        return ops.expand_dims(self.istft(real, imag), -1)

    def synthesize_refined(self, mel, iterations=32, momentum=0.99):
        """Audio (batch, frames * hop_length) from the predicted amplitude with the predicted phase made consistent
        by ``iterations`` fast Griffin-Lim steps that start from it (0: the plain output, to float tolerance).

        The network's phase wobbles from frame to frame (pitch jitter of about one pYIN bin); a few consistency
        steps on its own amplitude remove most of it and keep its amplitude, where Griffin-Lim from the mel
        starts from random phase and a smeared amplitude. Builtin TFLite ops (:func:`consistent_audio`), so the
        ``"synthesize_refined"`` endpoint (``export_endpoints(refine=True)``) runs the same graph on device.
        Measured in ``benchmarks/results/istft_vocoder_refinement.md``.

        Paper: Masuyama et al. 2019, "Deep Griffin-Lim iteration" (neural phase, then consistency steps);
        Perraudin et al. 2013 (fast Griffin-Lim).
        """
        import tensorflow as tf

        if self.get_config()["istft_padding"] != "center":
            raise ValueError("synthesize_refined needs istft_padding='center' (the frames of a centred STFT)")
        if not tf.executing_eagerly():  # inside a traced function (an export endpoint): build the ops in place
            return self._refined_audio(mel, iterations, momentum)
        # eagerly, the WHILE loop would run op by op (5x slower): one graph per momentum, any batch and length
        graphs = self.__dict__.setdefault("_refine_graphs", {})  # plain dict, outside Keras' attribute tracking
        if momentum not in graphs:
            graphs[momentum] = tf.function(
                lambda m, k: self._refined_audio(m, k, momentum), reduce_retracing=True,
                input_signature=[tf.TensorSpec((None, None, self.n_mels), tf.float32), tf.TensorSpec((), tf.int32)])
        return graphs[momentum](tf.cast(mel, tf.float32), tf.constant(int(iterations), tf.int32))

    def _refined_audio(self, mel, iterations, momentum):
        log_amp, phase = self.spectrum_generator(mel, training=False)
        magnitude = ops.exp(ops.minimum(ops.cast(log_amp, "float32"), self.polar.max_log_amplitude))
        return consistent_audio(magnitude, phase, self.istft, iterations, momentum=momentum)

    # ------------------------------------------------------------------------------------------ export
    def export_endpoints(self, chunk_frames=32, context_frames=None, refine=False):
        """``[(name, function, input_specs)]``: ``"synthesize"`` (dynamic length) and ``"chunk"``, and with
        ``refine`` ``"synthesize_refined"``: mel (1, None, n_mels) and ``iterations`` (1,) int32 -> audio
        (1, frames * hop) (:meth:`synthesize_refined`, offline: the consistency steps span the whole utterance).

        ``"chunk"`` follows the vocoder streaming protocol of :mod:`tflite_export.streaming`: a window of
        ``chunk_frames + 2 * context_frames`` mel frames -> the audio of its central ``chunk_frames`` frames.
        ``context_frames`` defaults to the stack's receptive field (``(num_blocks + 1) * (kernel_size // 2)`` frames
        plus the ``n_fft / hop`` frames the inverse STFT overlaps), so the interior equals the offline output.
        """
        if context_frames is None:
            context_frames = self.receptive_field_frames()
        n_mels, hop = self.n_mels, self.hop_length
        start, stop = context_frames * hop, (context_frames + chunk_frames) * hop

        def synthesize(mel):
            return self(mel, training=False)

        def chunk(mel):
            if self._can_crop(context_frames):
                return self.cropped_chunk(mel, chunk_frames, context_frames)
            return self(mel, training=False)[:, start:stop, :]

        endpoints = [
            ("synthesize", synthesize, [keras.InputSpec(shape=(1, None, n_mels), dtype="float32", name="mel")]),
            ("chunk", chunk,
             [keras.InputSpec(shape=(1, chunk_frames + 2 * context_frames, n_mels), dtype="float32", name="mel")]),
        ]
        if refine:
            endpoints.append(
                ("synthesize_refined", lambda mel, iterations: self.synthesize_refined(mel, iterations),
                 [keras.InputSpec(shape=(1, None, n_mels), dtype="float32", name="mel"),
                  keras.InputSpec(shape=(1,), dtype="int32", name="iterations")]))
        return endpoints

    def _can_crop(self, context_frames) -> bool:
        return (self.kernel_size % 2 == 1 and self.get_config()["istft_padding"] == "center"
                and context_frames >= self.receptive_field_frames())

    def cropped_chunk(self, mel, chunk_frames, context_frames):
        """Audio (1, chunk_frames * hop, 1) of the central ``chunk_frames`` of a window of
        ``chunk_frames + 2 * context_frames`` mel frames, computing only the frames that reach them.

        Each ``"same"`` depthwise conv spoils ``kernel_size // 2`` frames at each edge of the window, so the stack
        drops them before the block's MLP: the MLPs, heads and inverse DFT run on fewer frames each block (the
        heads and the inverse STFT only on the chunk plus the STFT overlap) and the interior is the full
        window's output to float tolerance. Needs an odd kernel, centred frames and ``context_frames`` of at least
        :meth:`receptive_field_frames`; the ``chunk`` endpoint falls back to the whole window otherwise.
        """
        if not self._can_crop(context_frames):
            raise ValueError(f"cropped_chunk needs an odd kernel, istft_padding='center' and context_frames >= "
                             f"{self.receptive_field_frames()}, got context_frames={context_frames}")
        half, get = self.kernel_size // 2, self.get_layer

        def trim(t):
            return t[:, half:-half] if half else t

        x = get("embed_norm")(trim(get("embed")(mel)))
        for i in range(self.num_blocks):   # the layers convnext_block names, in its order
            y = trim(get(f"block{i}_dwconv")(x))
            x = trim(x)
            for part in ("norm", "pwconv1", "gelu", "pwconv2", "scale"):
                y = get(f"block{i}_{part}")(y)
            x = get(f"block{i}_add")([x, y])
        x = get("final_norm")(x)
        left = context_frames - (self.num_blocks + 1) * half   # frames of context still in x on each side
        log_amp = get("amplitude")(x)
        if self.get_config()["amplitude_prior"] == "pinv":
            prior = get("amplitude_prior")(mel[:, context_frames - left: context_frames + chunk_frames + left])
            log_amp = get("log_amplitude")([prior, log_amp])
        if self.get_config()["phase_head"] == "atan2":
            phase = get("phase")(get("phase_real")(x), get("phase_imag")(x))
        else:
            phase = get("phase")(x)
        hop = self.hop_length
        return self.spectrum_to_audio(log_amp, phase)[:, left * hop: (left + chunk_frames) * hop, :]

    def receptive_field_frames(self) -> int:
        """Mel frames on each side that can change a frame's audio: conv stack plus inverse-STFT overlap."""
        cfg = self.feature_settings
        return (self.num_blocks + 1) * (self.kernel_size // 2) + cfg.n_fft // cfg.hop_length

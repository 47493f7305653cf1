"""GAN and reconstruction losses for neural vocoders and waveform GANs (``keras.ops``, differentiable).

Reconstruction: multi-resolution STFT loss (Parallel WaveGAN, Yamamoto et al. 2020; sub-band variant of
Multi-band MelGAN, Yang et al. 2020) and the mel-spectrogram L1 loss (HiFi-GAN, Kong et al. 2020).
Adversarial: least-squares GAN (Mao et al. 2017), hinge (Lim & Ye 2017), Wasserstein GAN with gradient
penalty (Gulrajani et al. 2017) and the discriminator feature-matching loss (Larsen et al. 2016, as HiFi-GAN).

Discriminator outputs follow ``docs/contracts.md``: a list with one entry per sub-discriminator, each a
list ``[feature_map_1, ..., feature_map_k, score]``. The adversarial functions accept that nested
structure, a list of scores, or a single score tensor.

Example:
    >>> import numpy as np
    >>> from audiogen_tf.losses import multi_resolution_stft_loss
    >>> x = np.sin(np.linspace(0, 400, 8192)).astype("float32")[None]
    >>> float(multi_resolution_stft_loss(x, x)[0]) < 1e-6
    True
"""

from __future__ import annotations

import keras
from keras import ops

from audiogen_tf.errors import ConfigError
from audiogen_tf.serialization import register

#: (fft_size, hop_size, win_length) of Parallel WaveGAN's full-band multi-resolution STFT loss.
PWG_STFT_RESOLUTIONS = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))
#: Sub-band resolutions of Multi-band MelGAN (4 bands, each at a quarter of the sample rate).
MB_MELGAN_SUBBAND_STFT_RESOLUTIONS = ((384, 30, 150), (683, 60, 300), (171, 10, 60))

_MAG_FLOOR = 1e-7  # PWG clamps |X|^2 at 1e-7 before the square root


def _squeeze_channel(x):
    """(batch, time, 1) -> (batch, time); (batch, time) unchanged."""
    x = ops.convert_to_tensor(x, "float32")
    if len(x.shape) == 3 and x.shape[-1] == 1:
        x = ops.squeeze(x, -1)
    return x


def crop_to_common_length(a, b):
    """``a`` and ``b`` (batch, time, ...) cut to the shorter one's length along the time axis."""
    n = ops.minimum(ops.shape(a)[1], ops.shape(b)[1])
    if isinstance(a.shape[1], int) and isinstance(b.shape[1], int):
        n = min(a.shape[1], b.shape[1])
    return a[:, :n], b[:, :n]


def stft_magnitude(audio, fft_size=1024, hop_size=256, win_length=None, window="hann"):
    """Linear STFT magnitude with a finite gradient at zero.

    Args:
        audio: float (batch, time) or (batch, time, 1).
        fft_size, hop_size, win_length: frame size, hop and window length (``None`` -> fft_size).
        window: window name understood by ``keras.ops.stft``.

    Returns:
        float32 (batch, frames, fft_size // 2 + 1), ``sqrt(max(re^2 + im^2, 1e-7))`` as Parallel WaveGAN.

    Example:
        >>> import numpy as np
        >>> tuple(stft_magnitude(np.zeros((2, 4096), "float32"), 512, 128, 256).shape)
        (2, 33, 257)
    """
    x = _squeeze_channel(audio)
    win_length = int(win_length or fft_size)
    re, im = ops.stft(x, win_length, int(hop_size), int(fft_size), window=window, center=True)
    return ops.sqrt(ops.maximum(ops.square(re) + ops.square(im), _MAG_FLOOR))


def spectral_convergence(true_mag, pred_mag):
    """Spectral convergence ``||S - S_hat||_F / ||S||_F`` over the whole batch (Arik et al. 2019).

    Args:
        true_mag, pred_mag: magnitudes (batch, frames, bins).
    """
    num = ops.sqrt(ops.sum(ops.square(true_mag - pred_mag)))
    den = ops.sqrt(ops.sum(ops.square(true_mag)))
    return num / ops.maximum(den, 1e-12)


def log_stft_magnitude_loss(true_mag, pred_mag):
    """Mean ``|log S - log S_hat|`` (Parallel WaveGAN's log STFT magnitude loss).

    Args:
        true_mag, pred_mag: magnitudes (batch, frames, bins), already floored above 0.
    """
    return ops.mean(ops.abs(ops.log(true_mag) - ops.log(pred_mag)))


def multi_resolution_stft_loss(y_true, y_pred, resolutions=PWG_STFT_RESOLUTIONS, window="hann"):
    """Multi-resolution STFT loss of Parallel WaveGAN: spectral convergence and log magnitude, averaged over resolutions.

    Args:
        y_true, y_pred: waveforms (batch, time) or (batch, time, 1), or sub-band signals (batch, time, bands)
            whose bands are folded into the batch.
        resolutions: iterable of ``(fft_size, hop_size, win_length)``.

    Returns:
        ``(sc_loss, mag_loss)`` scalars; the total loss is their sum.

    Example:
        >>> import numpy as np
        >>> sc, mag = multi_resolution_stft_loss(np.ones((1, 4096), "float32"), np.zeros((1, 4096), "float32"))

    Paper: Yamamoto et al., "Parallel WaveGAN", ICASSP 2020, eq. (4)-(6).
    """
    y_true = _fold_bands(y_true)
    y_pred = _fold_bands(y_pred)
    sc_total = 0.0
    mag_total = 0.0
    for fft_size, hop_size, win_length in resolutions:
        t = stft_magnitude(y_true, fft_size, hop_size, win_length, window)
        p = stft_magnitude(y_pred, fft_size, hop_size, win_length, window)
        sc_total = sc_total + spectral_convergence(t, p)
        mag_total = mag_total + log_stft_magnitude_loss(t, p)
    n = float(len(resolutions))
    return sc_total / n, mag_total / n


def _fold_bands(x):
    """(batch, time, bands) -> (batch * bands, time); (batch, time[, 1]) -> (batch, time)."""
    x = ops.convert_to_tensor(x, "float32")
    if len(x.shape) == 3:
        if x.shape[-1] == 1:
            return ops.squeeze(x, -1)
        x = ops.transpose(x, (0, 2, 1))
        return ops.reshape(x, (-1, ops.shape(x)[-1]))
    return x


def mel_l1_loss(y_true, y_pred, mel_config=None):
    """Mean absolute error between log-mel spectrograms (HiFi-GAN's reconstruction loss, before its weight of 45).

    Args:
        y_true, y_pred: waveforms (batch, time) or (batch, time, 1).
        mel_config: ``audiogen_tf.features.MelConfig`` or its dict (required). HiFi-GAN computes
            the loss mel with ``fmax=None`` (full band) while its input mel stops at 8 kHz.

    Returns:
        scalar.

    Example:
        >>> import numpy as np
        >>> from audiogen_tf.features import MelConfig
        >>> x = np.random.default_rng(0).normal(size=(1, 4096)).astype("float32")
        >>> float(mel_l1_loss(x, x, MelConfig(sample_rate=16000, n_fft=512, hop_length=128, win_length=512)))
        0.0

    Paper: Kong et al., "HiFi-GAN", NeurIPS 2020, eq. (2).
    """
    from audiogen_tf.features import MelConfig, log_mel_spectrogram

    if mel_config is None:
        raise ConfigError("mel_l1_loss needs mel_config: the MelConfig (or its dict) of the loss mel")
    if isinstance(mel_config, dict):
        mel_config = MelConfig.from_dict(mel_config)
    kwargs = mel_config.to_dict()
    t = log_mel_spectrogram(_squeeze_channel(y_true), **kwargs)
    p = log_mel_spectrogram(_squeeze_channel(y_pred), **kwargs)
    return ops.mean(ops.abs(t - p))


# ---------------------------------------------------------------------------------------------
# amplitude and phase losses of frame-rate (iSTFT) vocoders


def anti_wrap(x):
    """``|x - 2 pi round(x / 2 pi)|``: the distance of a phase difference to the nearest multiple of 2 pi.

    Example:
        >>> import numpy as np
        >>> round(float(anti_wrap(np.float32(2 * np.pi + 0.1))), 4)
        0.1
    """
    two_pi = 2.0 * 3.141592653589793
    return ops.abs(x - two_pi * ops.round(x / two_pi))


def phase_losses(true_phase, pred_phase):
    """APNet's anti-wrapped phase losses: instantaneous phase, group delay, instantaneous angular frequency.

    Args:
        true_phase, pred_phase: (batch, frames, bins) in radians (any branch; differences are anti-wrapped).

    Returns:
        ``(ip, gd, iaf)`` scalars: mean anti-wrapped error of the phase, of its difference along frequency (group
        delay) and of its difference along time (instantaneous angular frequency).

    Paper: Ai & Ling 2023, "APNet", eq. (9)-(12).
    """
    ip = ops.mean(anti_wrap(pred_phase - true_phase))
    gd = ops.mean(anti_wrap(ops.diff(pred_phase, axis=-1) - ops.diff(true_phase, axis=-1)))
    iaf = ops.mean(anti_wrap(ops.diff(pred_phase, axis=-2) - ops.diff(true_phase, axis=-2)))
    return ip, gd, iaf


def weighted_phase_losses(true_phase, pred_phase, true_amp, exponent=0.25):
    """Group-delay and instantaneous-frequency errors weighted by the target's amplitude.

    APNet's phase terms average over every bin, so noise-floor bins, whose phase is arbitrary, weigh as much as
    harmonics. Here each anti-wrapped difference is weighted by ``(a_1 a_2) ** exponent`` of the two target bins it
    spans (0.25: the square root of their geometric mean), so the loss asks for coherent phase where there is energy:
    the phase advance of each harmonic from frame to frame (periodicity, F0) and the alignment of harmonics within a
    frame (pulse shape). The absolute phase of a frame, which a mel does not determine, is not asked for.

    Args:
        true_phase, pred_phase, true_amp: (batch, frames, bins); amplitude linear.

    Returns:
        ``(gd, iaf)`` weighted means in radians.
    """
    a = ops.power(ops.maximum(true_amp, 0.0), exponent)
    w_gd = a[..., 1:] * a[..., :-1]
    w_iaf = a[..., 1:, :] * a[..., :-1, :]
    e_gd = anti_wrap(ops.diff(pred_phase, axis=-1) - ops.diff(true_phase, axis=-1))
    e_iaf = anti_wrap(ops.diff(pred_phase, axis=-2) - ops.diff(true_phase, axis=-2))
    gd = ops.sum(w_gd * e_gd) / (ops.sum(w_gd) + 1e-8)
    iaf = ops.sum(w_iaf * e_iaf) / (ops.sum(w_iaf) + 1e-8)
    return gd, iaf


def frame_rate_correlation_loss(real_audio, fake_audio, hop_length, lags=3, window_hops=4, floor_db=-40.0):
    """Mean |normalised autocorrelation of fake - of real| at lags of 1..``lags`` hops, over windows of
    ``window_hops`` hops (stride one hop) louder than ``floor_db`` below the item's loudest window.

    A frame-rate vocoder whose phase repeats from frame to frame turns noise into a buzz at ``sr / hop_length``
    (its false-voiced frames, ``benchmarks/istft_vocoder_voicing_errors.py``): its autocorrelation at a lag of one
    hop is high where the recording's, in a fricative, is near zero. Matching the recording's correlation at those
    lags asks for noise there and leaves voiced windows (whose correlation the recording sets) alone.

    Args:
        real_audio, fake_audio: (batch, time) or (batch, time, 1), same length.
        hop_length: the vocoder's hop in samples (the lag unit).
        lags: lags of 1..``lags`` hops; window_hops: hops per window (> lags keeps overlap for every lag).
        floor_db: windows of the recording quieter than this (relative to its loudest) do not count.

    Returns:
        scalar.
    """
    h = int(hop_length)
    x, y = (ops.cast(_squeeze_channel(a), "float32") for a in (real_audio, fake_audio))
    n_blocks = ops.shape(x)[1] // h
    x = ops.reshape(x[:, : n_blocks * h], (ops.shape(x)[0], n_blocks, h))
    y = ops.reshape(y[:, : n_blocks * h], (ops.shape(y)[0], n_blocks, h))
    n_win = n_blocks - window_hops - lags + 1

    def window_sum(z):  # (batch, n) -> (batch, n_win): sums of window_hops consecutive blocks
        return sum(z[:, j: j + n_win] for j in range(window_hops))

    def correlations(b):
        energy = ops.sum(b * b, axis=-1)
        e0 = window_sum(energy)
        out = []
        for k in range(1, lags + 1):
            dot = ops.sum(b[:, :-k] * b[:, k:], axis=-1)
            out.append(window_sum(dot) / ops.sqrt(e0 * window_sum(energy[:, k:]) + 1e-12))
        return ops.stack(out, axis=-1), e0

    c_real, e_real = correlations(x)
    c_fake, _ = correlations(y)
    loud = ops.cast(e_real > ops.max(e_real, axis=1, keepdims=True) * 10.0 ** (floor_db / 10.0), "float32")
    err = ops.sum(ops.abs(c_fake - c_real), axis=-1) * loud
    return ops.sum(err) / (ops.sum(loud) * lags + 1e-8)


def spectral_losses(real_audio, log_amp, phase, fake_audio, stft_config, edge_frames=2, log_floor=1e-5,
                    weighted_phase_exponent=0.25):
    """Frame-level losses of an iSTFT vocoder against the STFT of the real audio, at the vocoder's own resolution.

    Args:
        real_audio, fake_audio: (batch, time[, 1]); ``fake_audio`` is the inverse STFT of (``log_amp``, ``phase``).
        log_amp, phase: predicted (batch, frames, bins), frame ``i`` centred on sample ``i * hop``.
        stft_config: object or dict with ``n_fft``, ``hop_length``, ``win_length`` (the vocoder's features).
        edge_frames: frames left out at each end (there the segment's own reflect padding differs from the
            utterance's, whose frames the vocoder was given).
        log_floor: floor of the target amplitude before the log.
        weighted_phase_exponent: the amplitude exponent of :func:`weighted_phase_losses`' weights.

    Returns:
        dict of scalars: ``amplitude`` (MSE of log amplitudes), ``ip``, ``gd``, ``iaf`` (:func:`phase_losses`),
        ``real_imag`` (L1 of the real and imaginary parts of STFT(fake) against STFT(real)) and ``consistency``
        (mean squared distance between the predicted spectrum and the STFT of its own inverse STFT), and
        ``gd_weighted`` / ``iaf_weighted`` (:func:`weighted_phase_losses`), ``frame_rate_correlation``
        (:func:`frame_rate_correlation_loss` of the whole segments).

    Paper: Ai & Ling 2023, "APNet"; Du, Ai & Ling 2023, "APNet2" (the same terms and weights 45 / 100 / 45 / 20).
    """
    from audiogen_tf.features import stft

    cfg = stft_config if isinstance(stft_config, dict) else {
        "n_fft": stft_config.n_fft, "hop_length": stft_config.hop_length, "win_length": stft_config.win_length}
    n_fft, hop, win = int(cfg["n_fft"]), int(cfg["hop_length"]), int(cfg.get("win_length") or cfg["n_fft"])
    n_frames = ops.shape(log_amp)[1]
    lo, hi = int(edge_frames), n_frames - int(edge_frames)

    def spectrum(audio):
        return stft(_squeeze_channel(audio), n_fft, hop, win)[:, lo:hi]

    true = spectrum(real_audio)
    fake = spectrum(fake_audio)
    log_amp = ops.cast(log_amp[:, lo:hi], "float32")
    phase = ops.cast(phase[:, lo:hi], "float32")
    true_re, true_im = ops.real(true), ops.imag(true)
    true_log_amp = ops.log(ops.maximum(ops.sqrt(true_re * true_re + true_im * true_im), log_floor))
    true_phase = ops.arctan2(true_im, true_re)
    ip, gd, iaf = phase_losses(true_phase, phase)
    gd_w, iaf_w = weighted_phase_losses(true_phase, phase, ops.exp(true_log_amp), exponent=weighted_phase_exponent)
    amp = ops.exp(log_amp)
    pred_re, pred_im = amp * ops.cos(phase), amp * ops.sin(phase)
    fake_re, fake_im = ops.real(fake), ops.imag(fake)
    return {
        "amplitude": ops.mean(ops.square(log_amp - true_log_amp)),
        "ip": ip,
        "gd": gd,
        "iaf": iaf,
        "gd_weighted": gd_w,
        "iaf_weighted": iaf_w,
        "real_imag": ops.mean(ops.abs(fake_re - true_re)) + ops.mean(ops.abs(fake_im - true_im)),
        "consistency": ops.mean(ops.square(fake_re - pred_re) + ops.square(fake_im - pred_im)),
        "frame_rate_correlation": frame_rate_correlation_loss(real_audio, fake_audio, hop),
    }


# ---------------------------------------------------------------------------------------------
# discriminator outputs


def discriminator_scores(outputs):
    """The score tensors of a discriminator output (contract: list of ``[fmap_1, ..., fmap_k, score]``).

    Accepts that nested list, a flat list of scores, or one score tensor.
    """
    if not isinstance(outputs, (list, tuple)):
        return [outputs]
    scores = []
    for entry in outputs:
        if isinstance(entry, (list, tuple)):
            scores.append(entry[-1])
        else:
            scores.append(entry)
    return scores


def discriminator_feature_maps(outputs, include_score=False):
    """The feature maps of each sub-discriminator: list of lists (the score dropped unless ``include_score``)."""
    if not isinstance(outputs, (list, tuple)):
        return []
    end = None if include_score else -1
    return [list(entry[:end]) for entry in outputs if isinstance(entry, (list, tuple))]


def _mean_f(x):
    return ops.mean(ops.cast(x, "float32"))


# LSGAN ----------------------------------------------------------------------------------------


def lsgan_discriminator_loss(real_outputs, fake_outputs):
    """Least-squares discriminator loss ``sum_k E[(D_k(x) - 1)^2] + E[D_k(G(s))^2]`` (summed over sub-discriminators).

    Args:
        real_outputs, fake_outputs: discriminator outputs on real and generated audio.

    Example:
        >>> import numpy as np
        >>> float(lsgan_discriminator_loss([np.ones(3)], [np.zeros(3)]))
        0.0

    Paper: Mao et al., "Least Squares GANs", ICCV 2017; as MelGAN / HiFi-GAN.
    """
    total = 0.0
    for r, f in zip(discriminator_scores(real_outputs), discriminator_scores(fake_outputs)):
        total = total + _mean_f(ops.square(r - 1.0)) + _mean_f(ops.square(f))
    return total


def lsgan_generator_loss(fake_outputs):
    """Least-squares generator loss ``sum_k E[(D_k(G(s)) - 1)^2]``."""
    total = 0.0
    for f in discriminator_scores(fake_outputs):
        total = total + _mean_f(ops.square(f - 1.0))
    return total


# hinge ----------------------------------------------------------------------------------------


def hinge_discriminator_loss(real_outputs, fake_outputs):
    """Hinge discriminator loss ``sum_k E[relu(1 - D_k(x))] + E[relu(1 + D_k(G(s)))]`` (Lim & Ye 2017; MelGAN)."""
    total = 0.0
    for r, f in zip(discriminator_scores(real_outputs), discriminator_scores(fake_outputs)):
        total = total + _mean_f(ops.relu(1.0 - r)) + _mean_f(ops.relu(1.0 + f))
    return total


def hinge_generator_loss(fake_outputs):
    """Hinge generator loss ``-sum_k E[D_k(G(s))]``."""
    total = 0.0
    for f in discriminator_scores(fake_outputs):
        total = total - _mean_f(f)
    return total


# WGAN -----------------------------------------------------------------------------------------


def wgan_discriminator_loss(real_outputs, fake_outputs):
    """Critic loss ``sum_k E[D_k(G(z))] - E[D_k(x)]`` (minus the Wasserstein estimate; Arjovsky et al. 2017)."""
    total = 0.0
    for r, f in zip(discriminator_scores(real_outputs), discriminator_scores(fake_outputs)):
        total = total + _mean_f(f) - _mean_f(r)
    return total


def wgan_generator_loss(fake_outputs):
    """Generator loss ``-sum_k E[D_k(G(z))]``."""
    return hinge_generator_loss(fake_outputs)


def gradient_penalty(critic_fn, real, fake, alpha=None, seed=None):
    """WGAN-GP penalty ``E[(||grad_x D(x_hat)||_2 - 1)^2]`` at ``x_hat = alpha x + (1 - alpha) G(z)``.

    Needs the TensorFlow backend (``tf.GradientTape``). The penalty is summed over the critic's scores when it
    has several sub-discriminators.

    Args:
        critic_fn: callable audio (batch, time, 1) -> discriminator outputs (contract structure or a score).
        real, fake: (batch, time, 1) or (batch, time).
        alpha: optional (batch, 1[, 1]) interpolation weights; drawn uniformly in [0, 1) otherwise.
        seed: int or ``keras.random.SeedGenerator`` for ``alpha``.

    Returns:
        scalar.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(2, 16, 1)).astype("float32")
        >>> w = np.full((1, 16, 1), 0.25, "float32")  # ||w|| = 1: a 1-Lipschitz linear critic
        >>> round(float(gradient_penalty(lambda a: ops.sum(a * w, axis=(1, 2)), x, 0 * x)), 6)
        0.0

    Paper: Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017, Algorithm 1 (lambda = 10).
    """
    import tensorflow as tf

    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    batch = tf.shape(real)[0]
    if alpha is None:
        shape = [batch] + [1] * (real.shape.rank - 1)
        alpha = keras.random.uniform(shape, seed=seed)
    alpha = tf.cast(alpha, tf.float32)
    interp = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(interp)
        scores = discriminator_scores(critic_fn(interp))
        total_score = tf.add_n([tf.reduce_sum(tf.cast(s, tf.float32)) for s in scores])
    grads = tape.gradient(total_score, interp)
    axes = list(range(1, grads.shape.rank))
    norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=axes) + 1e-12)
    return tf.reduce_mean(tf.square(norm - 1.0))


# feature matching ----------------------------------------------------------------------------


def feature_matching_loss(real_outputs, fake_outputs, include_score=False):
    """Feature-matching loss: ``sum over sub-discriminators and layers of mean |D^i(x) - D^i(G(s))|``.

    Real feature maps are treated as constants (``stop_gradient``), as in HiFi-GAN where they come from the
    discriminator pass on real audio.

    Args:
        real_outputs, fake_outputs: discriminator outputs (contract structure).
        include_score: also match the last output (the score map). HiFi-GAN's reference code does (its ``fmap``
            lists end with the ``conv_post`` output); MelGAN's and ParallelWaveGAN's do not (the default).

    Example:
        >>> import numpy as np
        >>> out = [[np.ones((1, 4, 2)), np.zeros((1, 4, 1))]]
        >>> float(feature_matching_loss(out, out))
        0.0

    Paper: Kong et al., "HiFi-GAN", NeurIPS 2020, eq. (3) (weight 2 in eq. (5)).
    """
    total = 0.0
    pairs = zip(discriminator_feature_maps(real_outputs, include_score), discriminator_feature_maps(fake_outputs,
                                                                                                  include_score))
    for real_maps, fake_maps in pairs:
        for r, f in zip(real_maps, fake_maps):
            r = ops.stop_gradient(ops.cast(r, "float32"))
            total = total + _mean_f(ops.abs(r - f))
    return total


ADVERSARIAL_LOSSES = {
    "lsgan": (lsgan_generator_loss, lsgan_discriminator_loss),
    "hinge": (hinge_generator_loss, hinge_discriminator_loss),
    "wgan": (wgan_generator_loss, wgan_discriminator_loss),
    "wgan-gp": (wgan_generator_loss, wgan_discriminator_loss),
}


def get_adversarial_losses(name: str):
    """``(generator_loss_fn, discriminator_loss_fn)`` for ``"lsgan"``, ``"hinge"``, ``"wgan"`` or ``"wgan-gp"``."""
    from audiogen_tf.errors import ConfigError

    key = str(name).lower()
    if key not in ADVERSARIAL_LOSSES:
        raise ConfigError(f"unknown adversarial loss '{name}'; known: {', '.join(sorted(ADVERSARIAL_LOSSES))}")
    return ADVERSARIAL_LOSSES[key]


# ---------------------------------------------------------------------------------------------
# Keras Loss classes


@register
class MultiResolutionSTFTLoss(keras.losses.Loss):
    """Multi-resolution STFT loss (spectral convergence + log STFT magnitude) as a Keras loss.

    Args:
        resolutions: ``(fft_size, hop_size, win_length)`` triples (default: Parallel WaveGAN's three).
        window: window name.

    Example:
        >>> import numpy as np
        >>> loss = MultiResolutionSTFTLoss()
        >>> x = np.random.default_rng(0).normal(size=(2, 8192, 1)).astype("float32")
        >>> float(loss(x, x)) < 1e-6
        True

    Paper: Yamamoto et al., "Parallel WaveGAN", ICASSP 2020.
    """

    def __init__(self, resolutions=PWG_STFT_RESOLUTIONS, window="hann", name="multi_resolution_stft_loss", **kwargs):
        kwargs.setdefault("reduction", "sum_over_batch_size")
        super().__init__(name=name, **kwargs)
        self.resolutions = tuple(tuple(int(v) for v in r) for r in resolutions)
        self.window = window

    def call(self, y_true, y_pred):
        sc, mag = multi_resolution_stft_loss(y_true, y_pred, self.resolutions, self.window)
        return sc + mag

    def get_config(self):
        config = super().get_config()
        config.update(resolutions=[list(r) for r in self.resolutions], window=self.window)
        return config


@register
class MelL1Loss(keras.losses.Loss):
    """L1 distance between log-mel spectrograms (HiFi-GAN) as a Keras loss.

    Args:
        mel_config: ``MelConfig`` or dict (required: no default mel).

    Example:
        >>> from audiogen_tf.features import MelConfig
        >>> loss = MelL1Loss(MelConfig(sample_rate=16000, n_fft=512, hop_length=128, win_length=512))

    Paper: Kong et al., "HiFi-GAN", NeurIPS 2020.
    """

    def __init__(self, mel_config=None, name="mel_l1_loss", **kwargs):
        from audiogen_tf.features import MelConfig

        kwargs.setdefault("reduction", "sum_over_batch_size")
        super().__init__(name=name, **kwargs)
        if mel_config is None:
            raise ConfigError("MelL1Loss needs mel_config: the MelConfig (or its dict) of the loss mel")
        if isinstance(mel_config, dict):
            mel_config = MelConfig.from_dict(mel_config)
        self.mel_config = mel_config

    def call(self, y_true, y_pred):
        return mel_l1_loss(y_true, y_pred, self.mel_config)

    def get_config(self):
        config = super().get_config()
        config.update(mel_config=self.mel_config.to_dict())
        return config

"""Judging generated audio with a trained classifier: accuracy, Inception Score and Fréchet distance in its embedding.

Everything here is NumPy/SciPy on embeddings (n, dim) and class probabilities (n, classes); the encoder
is passed in by the caller (any object with ``embed(audio) -> (n, dim)`` and ``classify(audio) -> logits``
or ``predict``), so this module imports no model.

- Inception Score (Salimans et al. 2016, "Improved Techniques for Training GANs"):
  ``exp(E_x KL(p(y|x) || p(y)))``, mean and std over ``splits`` chunks; 1 for constant predictions,
  ``num_classes`` for confident predictions spread evenly over the classes.
- Fréchet distance between Gaussian fits (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule
  Converge to a Local Nash Equilibrium"; in an audio classifier's space as in Kilgour et al. 2019, "Fréchet
  Audio Distance"): ``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))``.
- Bootstrap (Efron 1979): mean and std of a statistic over resamples with replacement, as its spread.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.standard_normal((2000, 4)), rng.standard_normal((2000, 4)) + 1.0
    >>> abs(frechet_distance(a, b) - 4.0) < 0.2   # N(0, I) vs N(1, I) in 4-D: |mu|^2 = 4
    True
    >>> round(inception_score(np.eye(5)[np.arange(100) % 5])[0], 6)
    5.0
"""

from __future__ import annotations

import numpy as np
import scipy.linalg


# ------------------------------------------------------------------------------------------ helpers
def softmax(logits, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax of ``logits`` (n, classes) in float64."""
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def accuracy(logits_or_probs, labels) -> float:
    """Fraction of rows of (n, classes) whose argmax equals ``labels`` (n,)."""
    pred = np.argmax(np.asarray(logits_or_probs), axis=-1)
    labels = np.asarray(labels).reshape(-1)
    if pred.shape != labels.shape:
        raise ValueError(f"{pred.shape[0]} predictions but {labels.shape[0]} labels")
    return float(np.mean(pred == labels)) if labels.size else float("nan")


# ----------------------------------------------------------------------------------- Inception Score
def inception_score(probs, splits: int = 1, eps: float = 1e-12) -> tuple[float, float]:
    """Inception Score ``exp(mean_x KL(p(y|x) || p(y)))`` of class probabilities (n, classes).

    Args:
        probs: rows of class probabilities (softmax outputs), (n, classes).
        splits: chunks the rows are cut into; the score is computed per chunk (its own ``p(y)``).
        eps: floor inside the logarithms.

    Returns:
        (mean, std) over the splits (std 0 for one split).

    Example:
        >>> inception_score(np.full((10, 3), 1 / 3))
        (1.0, 0.0)
    """
    p = np.asarray(probs, np.float64)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"probs must be (n, classes) with n > 0, got {p.shape}")
    scores = []
    for chunk in np.array_split(p, int(splits)):
        if chunk.shape[0] == 0:
            continue
        py = chunk.mean(axis=0, keepdims=True)
        kl = np.sum(chunk * (np.log(chunk + eps) - np.log(py + eps)), axis=1)
        scores.append(float(np.exp(np.mean(kl))))
    return float(np.mean(scores)), float(np.std(scores))


# ----------------------------------------------------------------------------------- Fréchet distance
def gaussian_stats(embeddings) -> tuple[np.ndarray, np.ndarray]:
    """Mean (dim,) and covariance (dim, dim) of embeddings (n, dim), float64 (unbiased covariance)."""
    x = np.asarray(embeddings, np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"embeddings must be (n, dim) with n >= 2, got {x.shape}")
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def frechet_distance_from_stats(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``sqrtm(sigma1 @ sigma2)`` is computed with SciPy; if it is not finite (singular covariances, e.g. fewer
    clips than dimensions) ``eps * I`` is added to both covariances and it is recomputed. Imaginary parts
    from round-off are dropped (an error is raised if they are large).
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape:
        raise ValueError(f"shapes differ: {mu1.shape} / {mu2.shape}, {s1.shape} / {s2.shape}")
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if not np.all(np.isfinite(covmean)):
        offset = np.eye(s1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3 * max(1.0, np.abs(covmean).max())):
            raise ValueError(f"sqrtm has a large imaginary component {np.max(np.abs(covmean.imag)):.3g}")
        covmean = covmean.real
    fd = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean)
    return float(max(fd, 0.0))


def frechet_distance(embeddings_a, embeddings_b, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussian fits of two embedding sets (n_a, dim) and (n_b, dim)."""
    return frechet_distance_from_stats(*gaussian_stats(embeddings_a), *gaussian_stats(embeddings_b), eps=eps)


# ----------------------------------------------------------------------------------------- bootstrap
def bootstrap(statistic, *arrays, num_resamples: int = 50, seed: int = 0) -> tuple[float, float]:
    """Mean and std of ``statistic(*resampled_arrays)`` over resamples with replacement.

    Each array is resampled independently along its first axis (for paired arrays, e.g. logits and labels,
    stack them or pass a statistic of one index array). Returns (mean, std).

    Example:
        >>> m, s = bootstrap(np.mean, np.arange(100.0), num_resamples=200)
        >>> 45 < m < 54 and 1 < s < 5
        True
    """
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(int(num_resamples)):
        resampled = [np.asarray(a)[rng.integers(0, len(a), len(a))] for a in arrays]
        values.append(float(statistic(*resampled)))
    return float(np.mean(values)), float(np.std(values))


# -------------------------------------------------------------------------------------- judge audio
def fit_length(clips, num_samples: int | None) -> np.ndarray:
    """Clips (n, time[, 1]) or a list of 1-D clips -> float32 (n, num_samples): cropped from the start / zero-padded."""
    if isinstance(clips, np.ndarray) or hasattr(clips, "shape"):
        x = np.asarray(clips, np.float32)
        if x.ndim == 3 and x.shape[-1] == 1:
            x = x[..., 0]
        if x.ndim == 1:
            x = x[None]
        items = list(x)
    else:
        items = [np.asarray(c, np.float32).reshape(-1) for c in clips]
    n = int(num_samples) if num_samples else max(len(c) for c in items)
    out = np.zeros((len(items), n), np.float32)
    for i, c in enumerate(items):
        out[i, : min(n, len(c))] = c[:n]
    return out


def _logits(encoder, audio, batch_size):
    if hasattr(encoder, "classify"):
        return np.asarray(encoder.classify(audio, batch_size=batch_size))
    return np.asarray(encoder.predict(audio, batch_size=batch_size, verbose=0))


def judge_audio(encoder, generated_clips, real_clips=None, labels=None, *, batch_size: int = 32, splits: int = 1,
                num_resamples: int = 20, eps: float = 1e-6, seed: int = 0) -> dict:
    """Score generated audio with a trained encoder: Fréchet distance to real audio, Inception Score, accuracy.

    Args:
        encoder: an object with ``embed(audio (n, time)) -> (n, dim)`` and ``classify(audio) -> logits (n, classes)``
            (e.g. ``zoo.encoders.MelCNNEncoder``); its ``num_samples`` (if any) sets the clip length.
        generated_clips: (n, time) or (n, time, 1) array, or a list of 1-D clips.
        real_clips: reference clips in the same forms, or ``None`` to skip the Fréchet distance.
        labels: intended class ids (n,) of the generated clips, for the accuracy, or ``None``.
        batch_size: encoder batch size.
        splits: Inception-Score splits.
        num_resamples: bootstrap resamples for the spreads (0 to skip).
        eps: covariance offset for singular Fréchet distances.
        seed: bootstrap seed.

    Returns:
        dict with ``num_generated``, ``num_real``, ``frechet_distance`` (+ ``_bootstrap_mean``, ``_bootstrap_std``),
        ``inception_score``, ``inception_score_std`` (over splits), ``inception_score_bootstrap_std``,
        ``accuracy`` (+ ``accuracy_bootstrap_std``) when labels are given.

    Example:
        >>> scores = judge_audio(encoder, fake, real, labels=wanted)        # doctest: +SKIP
        >>> scores["frechet_distance"], scores["accuracy"]                  # doctest: +SKIP
    """
    num_samples = getattr(encoder, "num_samples", None)
    gen = fit_length(generated_clips, num_samples)
    gen_logits = _logits(encoder, gen, batch_size)
    probs = softmax(gen_logits)
    out: dict = {"num_generated": int(len(gen)), "num_real": 0}
    is_mean, is_std = inception_score(probs, splits=splits)
    out["inception_score"], out["inception_score_std"] = is_mean, is_std
    if num_resamples:
        out["inception_score_bootstrap_std"] = bootstrap(
            lambda p: inception_score(p)[0], probs, num_resamples=num_resamples, seed=seed)[1]
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        out["accuracy"] = accuracy(gen_logits, labels)
        if num_resamples:
            correct = (np.argmax(gen_logits, -1) == labels).astype(np.float64)
            out["accuracy_bootstrap_std"] = bootstrap(np.mean, correct, num_resamples=num_resamples, seed=seed)[1]
    if real_clips is not None:
        real = fit_length(real_clips, num_samples or gen.shape[1])
        emb_gen = np.asarray(encoder.embed(gen, batch_size=batch_size), np.float64)
        emb_real = np.asarray(encoder.embed(real, batch_size=batch_size), np.float64)
        out["num_real"] = int(len(real))
        out["frechet_distance"] = frechet_distance(emb_gen, emb_real, eps=eps)
        if num_resamples:
            m, s = bootstrap(lambda a, b: frechet_distance(a, b, eps=eps), emb_gen, emb_real,
                             num_resamples=num_resamples, seed=seed)
            out["frechet_distance_bootstrap_mean"], out["frechet_distance_bootstrap_std"] = m, s
    return out

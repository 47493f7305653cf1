"""audiogen_tf.judge: Fréchet distance, Inception Score, accuracy and bootstrap on known distributions."""

import numpy as np
import pytest

from audiogen_tf import judge


def _white(rng, n, dim):
    x = rng.standard_normal((n, dim))
    x -= x.mean(0)
    chol = np.linalg.cholesky(np.atleast_2d(np.cov(x, rowvar=False)))
    return x @ np.linalg.inv(chol).T


def test_fd_identical_sets_is_zero(rng):
    x = rng.standard_normal((500, 8))
    assert judge.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("dim", [1, 4, 16])
def test_fd_shifted_gaussian_equals_squared_mean(rng, dim):
    mu = rng.standard_normal(dim)
    # exact stats: N(0, I) vs N(mu, I) -> |mu|^2
    assert judge.frechet_distance_from_stats(np.zeros(dim), np.eye(dim), mu, np.eye(dim)) == pytest.approx(mu @ mu, rel=1e-9)
    # samples whitened to exactly zero mean and identity covariance: the same value from embeddings
    a, b = _white(rng, 300, dim), _white(rng, 500, dim) + mu
    assert judge.frechet_distance(a, b) == pytest.approx(mu @ mu, rel=1e-6, abs=1e-6)
    # raw samples: within a few standard errors of the mean term (2 |mu| sqrt(2 / n)) plus the covariance term
    a, b = rng.standard_normal((20000, dim)), rng.standard_normal((20000, dim)) + mu
    tol = 5 * 2 * np.linalg.norm(mu) * np.sqrt(2 / 20000) + 0.01 * dim
    assert judge.frechet_distance(a, b) == pytest.approx(mu @ mu, abs=tol)


def test_fd_scaled_covariance_matches_closed_form():
    # N(0, I) vs N(0, s^2 I): d * (1 - s)^2
    d, s = 5, 3.0
    assert judge.frechet_distance_from_stats(np.zeros(d), np.eye(d), np.zeros(d), s * s * np.eye(d)) == pytest.approx(
        d * (1 - s) ** 2)


def test_fd_singular_covariance_is_finite(rng):
    a = rng.standard_normal((5, 32))  # fewer samples than dimensions: rank-deficient covariances
    b = rng.standard_normal((5, 32)) + 2.0
    fd = judge.frechet_distance(a, b)
    assert np.isfinite(fd) and fd > 32 * 4 * 0.5


def test_inception_score_limits():
    k = 6
    one_hot_uniform = np.eye(k)[np.arange(600) % k]
    assert judge.inception_score(one_hot_uniform)[0] == pytest.approx(k, rel=1e-6)
    constant = np.tile([0.7, 0.2, 0.1], (50, 1))
    assert judge.inception_score(constant) == (pytest.approx(1.0), pytest.approx(0.0))
    collapsed = np.eye(k)[np.zeros(100, int)]  # every sample confidently the same class
    assert judge.inception_score(collapsed)[0] == pytest.approx(1.0)
    mean, std = judge.inception_score(one_hot_uniform, splits=4)
    assert mean == pytest.approx(k, rel=1e-6) and std == pytest.approx(0.0, abs=1e-9)


def test_accuracy_softmax_and_bootstrap(rng):
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, -1.0], [0.0, 5.0]])
    assert judge.accuracy(logits, [0, 1, 1, 1]) == 0.75
    p = judge.softmax(logits)
    np.testing.assert_allclose(p.sum(-1), 1.0)
    np.testing.assert_allclose(p[0], np.exp([2, 0]) / np.exp([2, 0]).sum())
    x = rng.standard_normal(400)
    mean, std = judge.bootstrap(np.mean, x, num_resamples=300)
    assert mean == pytest.approx(x.mean(), abs=0.02)
    assert std == pytest.approx(x.std() / np.sqrt(len(x)), rel=0.25)  # standard error of the mean


def test_fit_length_crops_and_pads():
    out = judge.fit_length([np.ones(5), np.ones(12)], 8)
    assert out.shape == (2, 8) and out[0, 5:].sum() == 0 and out[1].sum() == 8
    assert judge.fit_length(np.ones((3, 10, 1)), None).shape == (3, 10)


class _FakeEncoder:
    """Embedding = first 4 samples; logits = one-hot of (sample 0 > 0)."""

    num_samples = 16

    def embed(self, audio, batch_size=32):
        return np.asarray(audio)[:, :4]

    def classify(self, audio, batch_size=32):
        return 10.0 * np.eye(2)[(np.asarray(audio)[:, 0] > 0).astype(int)]


def test_judge_audio_dict(rng):
    real = rng.standard_normal((400, 16))
    fake = rng.standard_normal((300, 20, 1)) + 1.0  # longer clips, (n, time, 1): cropped to 16
    labels = (fake[:, 0, 0] > 0).astype(int)
    out = judge.judge_audio(_FakeEncoder(), fake, real, labels=labels, num_resamples=10)
    assert out["num_generated"] == 300 and out["num_real"] == 400
    assert out["frechet_distance"] == pytest.approx(4.0, abs=0.6)
    assert out["frechet_distance_bootstrap_std"] > 0
    assert out["accuracy"] == 1.0
    assert 1.0 < out["inception_score"] < 2.0
    same = judge.judge_audio(_FakeEncoder(), real[:200], real[200:], num_resamples=0)
    assert same["frechet_distance"] < 0.3 * out["frechet_distance"]
    assert "accuracy" not in same

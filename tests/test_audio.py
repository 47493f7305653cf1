"""Audio I/O, bad-input errors, mu-law, normalization, pre-emphasis and trimming."""

import os
import wave

import numpy as np
import pytest
import soundfile as sf

from audiogen_tf import audio
from audiogen_tf.errors import AudioFileError



def _tone(sr=16000, seconds=0.5, freq=440.0, amp=0.5):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
def test_save_load_round_trip(tmp_path, ext):
    if ext.upper() not in audio.supported_formats():
        pytest.skip(f"this libsndfile has no {ext} support (libsndfile >= 1.1 reads and writes MP3)")
    x = _tone()
    path = audio.save(tmp_path / f"tone.{ext}", x, 16000)
    y, sr = audio.load(path)
    assert sr == 16000 and y.dtype == np.float32
    if ext in ("wav", "flac"):
        assert y.shape == x.shape and np.max(np.abs(y - x)) < 1e-3
    else:  # lossy codecs: same pitch and level, length within one codec frame
        assert abs(len(y) - len(x)) <= 2048
        n = min(len(x), len(y))
        spectrum = np.abs(np.fft.rfft(y[:n]))
        assert abs(np.argmax(spectrum) * 16000 / n - 440.0) < 5.0
        assert abs(np.sqrt(np.mean(y**2)) - np.sqrt(np.mean(x**2))) < 0.05


def test_load_resamples_and_mixes_down(tmp_path):
    stereo = np.stack([_tone(), -_tone()], axis=1) * 0.5 + 0.25
    path = audio.save(tmp_path / "st.wav", stereo, 16000)
    y, sr = audio.load(path, sr=8000)
    assert sr == 8000 and y.shape == (4000,)
    np.testing.assert_allclose(y[200:-200], 0.25, atol=2e-3)  # the edges ring after resampling
    z, _ = audio.load(path, mono=False)
    assert z.shape == (8000, 2)


def test_load_a_48k_recording_resampled(tmp_path):
    from speech_fixture import write_speech_wav

    y, sr = audio.load(write_speech_wav(tmp_path / "speech48k.wav", sr=48000, seconds=1.0), sr=22050)
    assert sr == 22050 and y.ndim == 1 and 0.1 < np.max(np.abs(y)) <= 1.0


def _expect(path, problem, **kwargs):
    with pytest.raises(AudioFileError) as info:
        audio.load(path, **kwargs)
    assert info.value.problem == problem
    assert str(path) in str(info.value)  # the message names the file
    return info.value


def test_missing_file(tmp_path):
    _expect(tmp_path / "nope.wav", "missing")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    _expect(p, "empty")


def test_zero_sample_wav(tmp_path):
    p = tmp_path / "nosamples.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
    _expect(p, "empty")


def test_corrupt_file(tmp_path):
    p = tmp_path / "garbage.wav"
    p.write_bytes(os.urandom(3000))
    _expect(p, "corrupt")


def test_truncated_file(tmp_path):
    good = audio.save(tmp_path / "good.flac", _tone(seconds=2.0), 16000)
    data = open(good, "rb").read()
    p = tmp_path / "truncated.flac"
    p.write_bytes(data[: len(data) // 3])
    # libsndfile either refuses the header or fails mid-decode; both are "corrupt", or it returns
    # fewer samples without error (FLAC frames are self-delimiting), which is still usable audio.
    try:
        y, _ = audio.load(p)
        assert len(y) < 32000
    except AudioFileError as err:
        assert err.problem == "corrupt" and str(p) in str(err)


def test_truncated_wav_header(tmp_path):
    good = audio.save(tmp_path / "good.wav", _tone(), 16000)
    p = tmp_path / "cut.wav"
    p.write_bytes(open(good, "rb").read()[:20])
    _expect(p, "corrupt")


def test_nan_samples(tmp_path):
    x = _tone()
    x[100] = np.nan
    p = tmp_path / "nan.wav"
    sf.write(p, x, 16000, subtype="FLOAT")
    _expect(p, "non_finite")


def test_unsupported_format(tmp_path):
    p = tmp_path / "clip.xyz"
    p.write_bytes(b"not audio at all" * 10)
    _expect(p, "unsupported_format")


def test_too_long(tmp_path):
    p = audio.save(tmp_path / "long.wav", _tone(seconds=3.0), 16000)
    err = _expect(p, "too_long", max_seconds=2.0)
    assert "3.0 s" in str(err)


def test_save_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "out.wav"
    audio.save(target, _tone(), 16000)
    before = target.read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audio.sf, "write", boom)
    with pytest.raises(RuntimeError):
        audio.save(target, _tone(freq=220), 16000)
    assert target.read_bytes() == before  # the old file is untouched
    assert sorted(os.listdir(tmp_path)) == ["out.wav"]  # no temporary file left behind


def test_save_refuses_bad_audio(tmp_path):
    with pytest.raises(AudioFileError, match="non finite"):
        audio.save(tmp_path / "x.wav", np.array([0.0, np.inf]), 16000)
    with pytest.raises(AudioFileError, match="wrong shape"):
        audio.save(tmp_path / "x.wav", np.zeros((2, 2, 2)), 16000)
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("bits", [8, 16])
def test_mu_law_round_trip(bits):
    x = np.linspace(-1, 1, 10001).astype(np.float32)
    codes = audio.mu_law_encode(x, bits)
    assert codes.min() == 0 and codes.max() == 2**bits - 1
    y = audio.mu_law_decode(codes, bits)
    # Quantization error is largest at full scale: one step of the companded curve.
    # Half a quantization step in the companded domain (1/mu) maps to at most
    # slope * (1/mu) in x, where the decoder's slope is ln(1+mu) (1+mu)/mu at full scale
    # and ln(1+mu)/mu near zero: small signals keep fine resolution (the point of companding).
    mu = 2**bits - 1
    full_scale_bound = np.log1p(mu) * (1 + mu) / mu / mu
    assert np.max(np.abs(y - x)) <= full_scale_bound * 1.001
    small = np.abs(x) < 1e-3
    assert np.max(np.abs(y - x)[small]) <= np.log1p(mu) / mu / mu * 1.01 + 1e-7


def test_mu_law_known_values():
    assert audio.mu_law_encode(np.array([0.0]), 8)[0] == 128
    assert audio.mu_law_encode(np.array([-1.0, 1.0]), 8).tolist() == [0, 255]
    with pytest.raises(ValueError):
        audio.mu_law_encode(np.zeros(3), 12)


def test_normalization():
    x = _tone(amp=0.1)
    assert np.isclose(np.max(np.abs(audio.peak_normalize(x, 0.9))), 0.9)
    y = audio.rms_normalize(x, -20.0)
    assert np.isclose(20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2))), -20.0, atol=1e-3)
    np.testing.assert_array_equal(audio.peak_normalize(np.zeros(10)), np.zeros(10))
    loud = audio.rms_normalize(np.r_[np.zeros(999), 1.0].astype(np.float32), 0.0)
    assert np.max(np.abs(loud)) <= 1.0


def test_pre_emphasis_inverts():
    x = np.random.default_rng(0).standard_normal(4000).astype(np.float32) * 0.1
    y = audio.pre_emphasis(x, 0.97)
    assert np.isclose(y[1], x[1] - 0.97 * x[0])
    np.testing.assert_allclose(audio.de_emphasis(y, 0.97), x, atol=1e-5)


def test_trim_silence():
    sr = 16000
    x = np.r_[np.zeros(8000), _tone(sr, 0.5), np.zeros(8000)].astype(np.float32)
    trimmed, (start, end) = audio.trim_silence(x, sr, top_db=40)
    assert abs(start - 8000) <= 2048 and abs(end - 16000) <= 2048  # within one analysis frame
    assert len(trimmed) == end - start

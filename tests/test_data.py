"""tf.data pipelines: aligned segments, bucketed utterances, skip reports, determinism, sharding, TFRecords."""

import glob
import os

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from audiogen_tf import audio, data, data_tfrecord, manifest
from audiogen_tf.errors import AudioFileError, ConfigError
from audiogen_tf.features import MelConfig

SR = 16000
CFG = MelConfig(sample_rate=SR, n_fft=256, hop_length=64, win_length=256, n_mels=20, fmax=None)
L = 1024  # segment length: 16 frames


def _signal(n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    x = 0.3 * np.sin(2 * np.pi * (200 + 50 * seed) * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return (x + 0.05 * rng.standard_normal(n)).astype(np.float32)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """6 good files (PCM16 at SR -> decode_wav path, float WAV and FLAC at 22050 -> soundfile path)
    including one shorter than a segment, plus a corrupt, an empty, a NaN and a missing file."""
    d = tmp_path_factory.mktemp("corpus")
    good = []
    specs = [(1500, SR, "PCM_16", "wav"), (3000, SR, "PCM_16", "wav"), (600, SR, "PCM_16", "wav"),
             (4100, SR, "FLOAT", "wav"), (2500, 22050, "PCM_16", "flac"), (5000, SR, "PCM_16", "wav")]
    for i, (n, sr, subtype, ext) in enumerate(specs):
        p = str(d / f"good{i}.{ext}")
        sf.write(p, _signal(n, i), sr, subtype=subtype)
        good.append({"path": p, "text": f"sentence number {i}", "label": ["cat", "dog"][i % 2], "speaker": str(i)})
    bad = {"corrupt": str(d / "corrupt.wav"), "empty": str(d / "empty.wav"),
           "non_finite": str(d / "nan.wav"), "missing": str(d / "missing.wav")}
    with open(bad["corrupt"], "wb") as f:
        f.write(b"RIFF\x10\x00\x00\x00WAVEjunk" + os.urandom(200))
    open(bad["empty"], "wb").close()
    sf.write(bad["non_finite"], np.full(2000, np.nan, np.float32), SR, subtype="FLOAT")
    good_manifest = manifest.write_manifest(good, str(d / "good.csv"))
    all_manifest = manifest.write_manifest(good + [{"path": p} for p in bad.values()], str(d / "all.jsonl"))
    return {"dir": str(d), "good": good, "bad": bad, "good_manifest": good_manifest, "all_manifest": all_manifest}


def _loaded(path):
    return audio.load(path, sr=SR)[0]


def _locate(segment, full):
    """Start of ``segment`` inside ``full`` (zero-padded to at least len(segment))."""
    full = np.pad(full, (0, max(0, len(segment) - len(full))))
    starts = [s for s in range(len(full) - len(segment) + 1) if np.array_equal(full[s : s + len(segment)], segment)]
    assert starts, "segment not found in its file"
    return starts[0], full


def test_segment_mel_is_the_slice_of_the_whole_utterance_mel(corpus):
    ds = data.segment_dataset(corpus["good_manifest"], L, batch_size=3, mel_config=CFG, deterministic=True,
                              seed=3, repeat=True)
    files = {e["path"]: _loaded(e["path"]) for e in corpus["good"]}
    starts_seen = set()
    for batch in ds.take(6):
        assert batch["audio"].shape == (3, L) and batch["mel"].shape == (3, L // CFG.hop_length, CFG.n_mels)
        for seg, mel in zip(batch["audio"].numpy(), batch["mel"].numpy()):
            matches = [p for p, x in files.items() if _contains(np.pad(x, (0, max(0, L - len(x)))), seg)]
            assert len(matches) == 1
            start, full = _locate(seg, files[matches[0]])
            assert start % CFG.hop_length == 0
            starts_seen.add((matches[0], start, start + L + CFG.n_fft // 2 > len(full)))
            ref = CFG.log_mel(full).numpy()  # center=True on the whole (padded) utterance
            f0 = start // CFG.hop_length
            np.testing.assert_allclose(mel, ref[f0 : f0 + L // CFG.hop_length], atol=2e-4)
    # offsets vary, and windows reaching into the reflect padding at both ends of a file are covered
    assert len(starts_seen) > 8
    assert any(s == 0 for _, s, _ in starts_seen) and any(right for _, _, right in starts_seen)


def _contains(full, seg):
    return any(np.array_equal(full[s : s + len(seg)], seg) for s in range(0, len(full) - len(seg) + 1))


def test_short_file_is_zero_padded(corpus):
    short = [corpus["good"][2]]  # 600 samples < L
    batch = next(iter(data.segment_dataset(short, L, 1, mel_config=CFG, seed=0)))
    x = _loaded(short[0]["path"])
    np.testing.assert_array_equal(batch["audio"][0, :600], x)
    assert np.all(batch["audio"][0, 600:].numpy() == 0)
    ref = CFG.log_mel(np.pad(x, (0, L - 600))).numpy()[: L // CFG.hop_length]
    np.testing.assert_allclose(batch["mel"][0], ref, atol=2e-4)


def test_segments_audio_only_and_fast_path_equals_soundfile(corpus):
    kw = dict(segment_length=L, batch_size=2, sample_rate=SR, deterministic=True, seed=7, drop_remainder=False)
    fast = [b["audio"].numpy() for b in data.segment_dataset(corpus["good_manifest"], decoder="auto", **kw)]
    slow = [b["audio"].numpy() for b in data.segment_dataset(corpus["good_manifest"], decoder="soundfile", **kw)]
    assert len(fast) == 3 and fast[-1].shape == (2, L)
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)  # decode_wav and soundfile agree on PCM16 exactly


def test_deterministic_mode_repeats_batches_and_seed_matters(corpus):
    def run(seed):
        ds = data.segment_dataset(corpus["good_manifest"], L, 2, mel_config=CFG, deterministic=True, seed=seed,
                                  label_key="label", repeat=True)
        return [{k: v.numpy() for k, v in b.items()} for b in ds.take(5)]

    a, b, c = run(11), run(11), run(12)
    for x, y in zip(a, b):
        for k in x:
            np.testing.assert_array_equal(x[k], y[k])
    assert any(not np.array_equal(x["audio"], z["audio"]) for x, z in zip(a, c))


def test_static_shapes_for_tpu(corpus):
    seg = data.segment_dataset(corpus["good_manifest"], L, 2, mel_config=CFG, label_key="label")
    utt = data.utterance_dataset(corpus["good_manifest"], 2, mel_config=CFG, static_shapes=True,
                                 max_audio_length=4200, bucket_boundaries=[2000])
    for ds in (seg, utt):
        for name, spec in ds.element_spec.items():
            assert spec.shape.is_fully_defined(), (name, spec)
    assert utt.element_spec["mel"].shape == (2, CFG.num_frames(4200), CFG.n_mels)
    batches = list(utt)
    assert all(b["audio"].shape == (2, 4200) for b in batches)
    # the 5000-sample file is over max_audio_length: skipped and reported, not silently dropped
    assert list(utt.skip_report.problems().values()) == ["too_long"]


def test_utterances_are_whole_padded_and_bucketed(corpus):
    ds = data.utterance_dataset(corpus["good_manifest"], 2, mel_config=CFG, bucket_boundaries=[2000, 4000],
                                shuffle=False, include_path=True, label_key="label")
    by_path = {e["path"]: e for e in corpus["good"]}
    seen = 0
    for batch in ds:
        lengths = batch["audio_length"].numpy()
        buckets = {int(np.searchsorted([2000, 4000], n, side="right")) for n in lengths}
        assert len(buckets) == 1  # one bucket per batch
        assert batch["audio"].shape[1] == lengths.max()
        for i, path in enumerate(batch["path"].numpy()):
            e, n, m = by_path[path.decode()], lengths[i], batch["mel_length"][i].numpy()
            x = _loaded(e["path"])
            assert n == len(x) and m == CFG.num_frames(n)
            np.testing.assert_array_equal(batch["audio"][i, :n], x)
            assert np.all(batch["audio"][i, n:].numpy() == 0)
            np.testing.assert_allclose(batch["mel"][i, :m], CFG.log_mel(x), atol=2e-4)
            np.testing.assert_allclose(batch["mel"][i, m:], np.log(CFG.log_floor), rtol=1e-6)
            assert batch["text"][i].numpy().decode() == e["text"]
            assert batch["label"][i].numpy() == ds.label_vocabulary.index(e["label"])
            seen += 1
    assert seen == len(corpus["good"])
    assert ds.label_vocabulary == ["cat", "dog"]


def test_bad_files_are_skipped_counted_and_reported(corpus):
    ds = data.segment_dataset(corpus["all_manifest"], L, 2, mel_config=CFG, drop_remainder=False)
    n = sum(b["audio"].shape[0] for b in ds)
    n += sum(b["audio"].shape[0] for b in ds)  # a second epoch must not count the files twice
    assert n == 2 * len(corpus["good"])
    report = ds.skip_report
    assert report.problems() == {p: k for k, p in corpus["bad"].items()}
    assert len(report) == 4 and report.counts() == {"corrupt": 1, "empty": 1, "non_finite": 1, "missing": 1}
    text = report.summary()
    assert text.startswith("4 file(s) skipped") and all(p in text for p in corpus["bad"].values())


@pytest.mark.parametrize("kind", ["corrupt", "empty", "missing", "non_finite"])
def test_on_error_raise_is_fatal(corpus, kind):
    entries = [corpus["good"][0], {"path": corpus["bad"][kind]}]
    if kind == "non_finite":  # found while decoding: the tf error carries the AudioFileError text
        ds = data.utterance_dataset(entries, 2, sample_rate=SR, on_error="raise")
        with pytest.raises(tf.errors.InvalidArgumentError, match="nan.wav: non finite"):
            list(ds)
    else:  # found by the header scan when the dataset is built
        with pytest.raises(AudioFileError) as info:
            data.utterance_dataset(entries, 2, sample_rate=SR, on_error="raise")
        assert info.value.problem == kind and info.value.path == corpus["bad"][kind]


def test_sharding_splits_files_between_workers(corpus):
    def paths(i):
        ds = data.utterance_dataset(corpus["good_manifest"], 1, sample_rate=SR, num_shards=2, shard_index=i,
                                    include_path=True, shuffle=True, seed=1)
        return [b["path"][0].numpy().decode() for b in ds]

    a, b = paths(0), paths(1)
    assert len(a) == len(b) == 3 and not set(a) & set(b)
    assert set(a) | set(b) == {e["path"] for e in corpus["good"]}


def test_cache_and_folder_source(corpus, tmp_path):
    folder = os.path.join(corpus["dir"])
    ds = data.utterance_dataset(os.path.join(folder, "good*.*"), 2, sample_rate=SR, cache=True, shuffle=True,
                                seed=0, deterministic=True, text_key=None)
    epoch1 = sorted(int(n) for b in ds for n in b["audio_length"].numpy())
    epoch2 = sorted(int(n) for b in ds for n in b["audio_length"].numpy())
    assert epoch1 == epoch2 and len(epoch1) == len(corpus["good"])
    assert "text" not in ds.element_spec
    cached = data.segment_dataset(corpus["good_manifest"], L, 3, sample_rate=SR, cache=str(tmp_path / "c"))
    assert sum(b["audio"].shape[0] for b in cached) == 6 and glob.glob(str(tmp_path / "c*"))


def test_bad_arguments():
    with pytest.raises(ConfigError, match="multiple of hop"):
        data.segment_dataset("/nonexistent/*.wav", 1000, 2, mel_config=CFG)
    with pytest.raises(ConfigError, match="differs"):
        data.segment_dataset("/nonexistent/*.wav", L, 2, sample_rate=22050, mel_config=CFG)
    with pytest.raises(ConfigError, match="max_audio_length"):
        data.utterance_dataset("/nonexistent/*.wav", 2, sample_rate=SR, static_shapes=True)


def test_tfio_backend_is_optional(corpus):
    if data.tfio_available():
        pytest.skip("tensorflow-io imports here")
    with pytest.raises(ConfigError, match="tensorflow-io"):
        data.segment_dataset(corpus["good_manifest"], L, 2, sample_rate=SR, decoder="tfio")


def test_tfrecords_round_trip_a_padded_dataset(corpus, tmp_path):
    ds = data.utterance_dataset(corpus["good_manifest"], 4, mel_config=CFG, shuffle=False, deterministic=True,
                                label_key="label")
    expected = []
    for b in ds.unbatch().as_numpy_iterator():
        n, m = b["audio_length"], b["mel_length"]
        expected.append(dict(b, audio=b["audio"][:n], mel=b["mel"][:m]))
    paths = data.write_tfrecords(ds, str(tmp_path / "tfr" / "train"), num_shards=3)
    assert [os.path.basename(p) for p in paths] == [f"train-{i:05d}-of-00003.tfrecord" for i in range(3)]
    assert not glob.glob(str(tmp_path / "tfr" / ".tmp-*"))
    back = list(data.tfrecord_dataset(str(tmp_path / "tfr" / "train-*.tfrecord")).as_numpy_iterator())
    assert len(back) == len(expected)
    for x, y in zip(expected, back):  # same order, same values, same keys
        assert set(x) == set(y)
        for k in x:
            np.testing.assert_array_equal(x[k], y[k])
            if k != "text":
                assert y[k].dtype == (np.int32 if k in ("label", "audio_length", "mel_length") else x[k].dtype)
    batched = next(iter(data.tfrecord_dataset(paths, batch_size=2)))
    assert batched["mel"].shape[0] == 2 and batched["mel"].shape[2] == CFG.n_mels


def test_tfrecords_from_examples_and_atomic_on_failure(tmp_path):
    rng = np.random.default_rng(0)
    examples = [{"audio": rng.standard_normal(100 + i).astype(np.float32), "codes": np.arange(i + 1, dtype=np.int32),
                 "label": i, "gain": 0.5, "text": f"t{i}"} for i in range(7)]
    data_tfrecord.write_tfrecords(examples, tmp_path / "ex", num_shards=2)
    back = list(data.tfrecord_dataset(str(tmp_path / "ex-*")).as_numpy_iterator())
    assert [y["label"] for y in back] == list(range(7))
    for x, y in zip(examples, back):
        np.testing.assert_array_equal(x["audio"], y["audio"])
        np.testing.assert_array_equal(x["codes"], y["codes"])
        assert y["text"].decode() == x["text"] and y["gain"] == np.float32(0.5)

    def broken():
        yield examples[0]
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError):
        data_tfrecord.write_tfrecords(broken(), tmp_path / "out" / "bad", num_shards=2)
    assert os.listdir(tmp_path / "out") == []  # no partial shards, no temp files

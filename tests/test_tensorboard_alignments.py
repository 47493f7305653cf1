"""TensorBoardAudio's attention-alignment pictures (Tacotron 2 style) in the TensorBoard event file."""

import glob
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

from test_gan_trainer import MEL, SR, vocoder_batch, vocoder_trainer
from training.callbacks import TensorBoardAudio, alignment_image


def _images(log_dir, tag):
    """[(step, decoded RGB image)] of one image tag in the event files of ``log_dir``."""
    out = []
    for path in glob.glob(os.path.join(log_dir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag == tag:
                    tensor = tf.make_ndarray(value.tensor)  # [width, height, png, ...]
                    out.append((event.step, tf.io.decode_png(tensor[2], channels=3).numpy()))
    return out


def test_alignment_image_draws_and_crops():
    diagonal = np.repeat(np.eye(8, dtype=np.float32), 2, axis=0)[None]  # (1, 16 steps, 8 symbols)
    uniform = np.full((1, 16, 8), 1 / 8, np.float32)
    a, b = alignment_image(diagonal), alignment_image(uniform)
    assert a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3 and a.shape == b.shape
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 1.0  # the picture shows the alignment
    padded = np.pad(diagonal, [[0, 0], [0, 4], [0, 5]])
    np.testing.assert_array_equal(alignment_image(padded, lengths=[[16, 8]]), a)
    two = alignment_image(np.concatenate([diagonal, uniform]))
    assert two.shape[0] > a.shape[0]  # one panel per example


def test_tacotron2_alignments_reach_tensorboard(tmp_path):
    from zoo.tacotron2.tacotron2_model import Tacotron2

    keras.utils.set_random_seed(0)
    model = Tacotron2.from_preset("tacotron2_tiny")
    ids, lengths = model.frontend.encode_batch(["hello there.", "a cat."])
    mel = np.random.default_rng(0).standard_normal((2, 12, model.n_mels)).astype(np.float32)
    x = {"text_ids": ids, "text_lengths": lengths, "mel": mel}
    y = {"mel": mel, "mel_lengths": np.array([12, 10], np.int32)}
    model.compile(optimizer=keras.optimizers.Adam(1e-2))

    def alignments(m):  # the fixed validation examples: (batch, decoder_steps, text_len) and valid lengths
        out = m(x, training=False)["alignments"]
        return out, np.stack([[6, 5], np.asarray(lengths)], axis=1)

    cb = TensorBoardAudio(tmp_path / "tb", None, SR, alignment_fn=alignments)
    model.fit(tf.data.Dataset.from_tensors((x, y)).repeat(1), epochs=2, verbose=0, callbacks=[cb])

    written = _images(str(tmp_path / "tb"), "alignment")
    assert [s for s, _ in written] == [1, 2]  # at each evaluation, at the optimizer step
    expected = alignment_image(*alignments(model))
    np.testing.assert_array_equal(written[-1][1], expected)  # the picture of the current model's alignments
    assert not np.array_equal(written[0][1], written[1][1])  # training moved the attention
    assert "loss" in {v.tag for p in glob.glob(str(tmp_path / "tb" / "*")) for e in
                      tf.compat.v1.train.summary_iterator(p) for v in e.summary.value}


def test_gan_callback_writes_alignments_next_to_audio(tmp_path):
    batch = vocoder_batch(2)
    trainer = vocoder_trainer()
    fixed = np.repeat(np.eye(4, dtype=np.float32), 3, axis=0)[None]
    cb = TensorBoardAudio(tmp_path / "tb", {"mel": batch["mel"]}, SR, mel_config=MEL, alignment_fn=lambda m: fixed)
    trainer.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0, callbacks=[cb])
    written = _images(str(tmp_path / "tb"), "alignment")
    assert len(written) == 1 and written[0][0] == 1
    np.testing.assert_array_equal(written[0][1], alignment_image(fixed))
    assert _images(str(tmp_path / "tb"), "spectrogram")

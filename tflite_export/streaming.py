"""Streaming synthesis with exported endpoints: chunked vocoders and one-step autoregressive loops.

Imports only NumPy at module level, so the TensorFlow-free :mod:`tflite_export.synthesizer` uses the
same code on device; the ``keras_*`` helpers import Keras lazily to run the same endpoints in TensorFlow.

- Vocoders (HiFi-GAN, MelGAN, Multi-band MelGAN ``"chunk"`` endpoint): the utterance's log-mel is padded
  with ``context_frames`` frames (``pad_value``, the log floor = silence) at both ends and cut into
  windows of ``chunk_frames + 2 * context_frames`` frames sliding by ``chunk_frames``; each call returns
  the audio of its central ``chunk_frames`` frames; the pieces are concatenated. When the receptive field
  of the generator (in frames) is at most ``context_frames``, every sample at least ``context_frames``
  frames away from the utterance's ends equals the offline output to float round-off (< 1e-4); within
  ``context_frames`` of the ends the streamer sees padding frames where the offline model sees its own
  zero padding, and that difference is reported separately (:func:`check_vocoder_streaming`).
- Autoregressive steps (WaveNet ``"step"`` with its conv queues as state, WaveRNN ``"step"`` with GRU
  state, Tacotron 2 ``"decoder_step"``): :class:`StepLoop` feeds each call's new state back in.

Timing: ``first_chunk_latency`` is the wall time from the start of synthesis to the first audio chunk;
``rtf`` (real-time factor) the total compute time divided by the audio duration (< 1: faster than real time).

Example:
    >>> from tflite_export.runtime import TFLiteRunner                            # doctest: +SKIP
    >>> r = TFLiteRunner("hifigan_tiny.tflite")                                  # doctest: +SKIP
    >>> out = stream_vocoder(tflite_chunk_fn(r), mel, 32, 8, hop_length=256, sample_rate=22050)  # doctest: +SKIP
    >>> out.audio.shape, out.first_chunk_latency, out.rtf                        # doctest: +SKIP

Papers: Kong et al. 2020 (HiFi-GAN), Kumar et al. 2019 (MelGAN); Paine et al. 2016 (fast WaveNet
generation queues); Kalchbrenner et al. 2018 (WaveRNN); Shen et al. 2018 (Tacotron 2).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

LOG_FLOOR = float(np.log(1e-5))  # log-mel of silence (the HiFi-GAN convention, MelConfig.log_floor)

__all__ = [
    "LOG_FLOOR",
    "StepLoop",
    "StreamResult",
    "check_vocoder_streaming",
    "chunk_geometry",
    "keras_endpoint_fn",
    "keras_chunk_fn",
    "mel_windows",
    "receptive_field_frames",
    "stream_vocoder",
    "tflite_chunk_fn",
    "tflite_endpoint_fn",
    "wavenet_stream",
    "wavernn_stream",
]


@dataclass
class StreamResult:
    """Output of a streaming run.

    Attributes:
        audio: float32 waveform (samples,) (or ids / frames for non-audio loops).
        first_chunk_latency: seconds from the start to the first chunk (or first step).
        compute_seconds: total seconds spent in model calls.
        audio_seconds: duration of ``audio`` at the sample rate.
        rtf: ``compute_seconds / audio_seconds``.
        chunk_seconds: seconds per call.
        extra: loop-specific arrays (logits, ids, stop logits...).
    """

    audio: np.ndarray
    first_chunk_latency: float
    compute_seconds: float
    audio_seconds: float
    rtf: float
    chunk_seconds: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------- vocoders
def mel_windows(mel, chunk_frames: int, context_frames: int, pad_value: float = LOG_FLOOR):
    """Cut a log-mel into overlapping windows for the ``"chunk"`` endpoint.

    Args:
        mel: (frames, n_mels) or (1, frames, n_mels).
        chunk_frames: frames whose audio each window yields.
        context_frames: frames of context on each side.
        pad_value: value of the padding frames before the start and after the end.

    Returns:
        ``(windows, frames)``: list of float32 (1, chunk_frames + 2 * context_frames, n_mels) and the
        utterance's frame count (the audio is ``frames * hop_length`` samples).

    Example:
        >>> w, n = mel_windows(np.zeros((70, 80), "float32"), 32, 8)
        >>> len(w), w[0].shape, n
        (3, (1, 48, 80), 70)
    """
    mel = np.asarray(mel, np.float32)
    if mel.ndim == 3:
        if mel.shape[0] != 1:
            raise ValueError(f"streaming takes one utterance, got a batch of {mel.shape[0]}")
        mel = mel[0]
    if mel.ndim != 2:
        raise ValueError(f"mel must be (frames, n_mels) or (1, frames, n_mels), got shape {mel.shape}")
    frames = mel.shape[0]
    n_chunks = max(1, math.ceil(frames / chunk_frames))
    total = n_chunks * chunk_frames + 2 * context_frames
    padded = np.full((total, mel.shape[1]), pad_value, np.float32)
    padded[context_frames : context_frames + frames] = mel
    width = chunk_frames + 2 * context_frames
    windows = [padded[None, i * chunk_frames : i * chunk_frames + width] for i in range(n_chunks)]
    return windows, frames


def stream_vocoder(chunk_fn: Callable, mel, chunk_frames: int, context_frames: int, hop_length: int,
                   sample_rate: int = 22050, pad_value: float = LOG_FLOOR, on_chunk: Callable | None = None) -> StreamResult:
    """Run a vocoder chunk by chunk and concatenate the audio.

    Args:
        chunk_fn: window (1, chunk_frames + 2 * context_frames, n_mels) -> audio (1, chunk_frames * hop, 1)
            or any shape holding ``chunk_frames * hop`` samples (:func:`keras_chunk_fn`, :func:`tflite_chunk_fn`).
        mel: (frames, n_mels) or (1, frames, n_mels) log-mel.
        chunk_frames, context_frames: the geometry the endpoint was exported with.
        hop_length: samples per frame.
        sample_rate: for the real-time factor.
        pad_value: padding frames at the ends (default: silence).
        on_chunk: called with each audio chunk as it is produced (e.g. to feed an audio device).

    Returns:
        :class:`StreamResult` with ``audio`` (frames * hop_length,).
    """
    windows, frames = mel_windows(mel, chunk_frames, context_frames, pad_value)
    pieces, times = [], []
    start = time.perf_counter()
    first = None
    for w in windows:
        t0 = time.perf_counter()
        piece = np.asarray(chunk_fn(w), np.float32).reshape(-1)
        times.append(time.perf_counter() - t0)
        if piece.size != chunk_frames * hop_length:
            raise ValueError(f"chunk endpoint returned {piece.size} samples, expected {chunk_frames * hop_length} "
                             f"(chunk_frames={chunk_frames} x hop_length={hop_length})")
        if first is None:
            first = time.perf_counter() - start
        if on_chunk is not None:
            on_chunk(piece)
        pieces.append(piece)
    audio = np.concatenate(pieces)[: frames * hop_length]
    compute = float(sum(times))
    seconds = audio.size / float(sample_rate)
    return StreamResult(audio, float(first), compute, seconds, compute / seconds if seconds else float("nan"), times)


def receptive_field_frames(offline_fn: Callable, n_mels: int, hop_length: int, frames: int = 64, seed: int = 0) -> int:
    """Frames of context a vocoder needs: how far a change of one mel frame moves the output (measured).

    Args:
        offline_fn: mel (1, frames, n_mels) -> audio.
        n_mels, hop_length: the vocoder's geometry.

    Returns:
        the largest distance, in frames, between the changed frame and a changed output sample.
    """
    rng = np.random.default_rng(seed)
    mel = rng.uniform(-6, 0, (1, frames, n_mels)).astype(np.float32)
    base = np.asarray(offline_fn(mel)).reshape(-1)
    mid = frames // 2
    bumped = mel.copy()
    bumped[0, mid] += 1.0
    diff = np.abs(np.asarray(offline_fn(bumped)).reshape(-1) - base) > 1e-6 * max(1.0, float(np.abs(base).max()))
    idx = np.nonzero(diff)[0]
    if not idx.size:
        return 0
    centre = mid * hop_length
    return int(math.ceil(max(centre - idx.min(), idx.max() - centre - hop_length + 1, 0) / hop_length))


def check_vocoder_streaming(offline_fn: Callable, chunk_fn: Callable, mel, chunk_frames: int, context_frames: int,
                            hop_length: int, sample_rate: int = 22050, pad_value: float = LOG_FLOOR) -> dict:
    """Streamed vs offline audio of one utterance.

    Args:
        offline_fn: mel (1, frames, n_mels) -> audio of the whole utterance (Keras ``synthesize``).
        chunk_fn: the streaming endpoint (Keras or TFLite).
        mel: (frames, n_mels) or (1, frames, n_mels).

    Returns:
        ``{"max_abs_error_interior", "max_abs_error_edges", "max_abs_error", "max_abs_error_vs_padded_offline",
        "peak", "first_chunk_latency", "rtf", "chunks", "audio", "offline"}``; interior = samples at least
        ``context_frames`` frames from both ends; ``vs_padded_offline`` compares with the offline synthesis of
        the mel padded by ``context_frames`` frames of ``pad_value`` on both sides (equal everywhere when the
        receptive field fits in the context).
    """
    mel = np.asarray(mel, np.float32)
    mel3 = mel if mel.ndim == 3 else mel[None]
    offline = np.asarray(offline_fn(mel3), np.float32).reshape(-1)
    chunk_fn(mel_windows(mel3, chunk_frames, context_frames, pad_value)[0][0])  # warm-up: tracing, allocation
    result = stream_vocoder(chunk_fn, mel3, chunk_frames, context_frames, hop_length, sample_rate, pad_value)
    if offline.size != result.audio.size:
        raise ValueError(f"offline audio has {offline.size} samples, streamed {result.audio.size}")
    err = np.abs(offline.astype(np.float64) - result.audio)
    edge = context_frames * hop_length
    pad = np.full((1, context_frames, mel3.shape[-1]), pad_value, np.float32)
    padded = np.asarray(offline_fn(np.concatenate([pad, mel3, pad], axis=1)), np.float32).reshape(-1)
    padded = padded[edge : edge + offline.size]
    err_padded = float(np.abs(padded.astype(np.float64) - result.audio).max())
    interior = err[edge : max(edge, err.size - edge)]
    return {
        "max_abs_error_interior": float(interior.max()) if interior.size else 0.0,
        "max_abs_error_edges": float(max(err[:edge].max(initial=0.0), err[err.size - edge :].max(initial=0.0))),
        "max_abs_error": float(err.max()),
        "max_abs_error_vs_padded_offline": err_padded,
        "peak": float(np.abs(offline).max()),
        "first_chunk_latency": result.first_chunk_latency,
        "rtf": result.rtf,
        "chunks": len(result.chunk_seconds),
        "audio": result.audio,
        "offline": offline,
    }


def tflite_endpoint_fn(runner, signature: str) -> Callable[[dict], dict]:
    """``feed dict -> output dict`` for one signature of a :class:`~tflite_export.runtime.TFLiteRunner`."""
    return lambda feed: runner.run(feed, signature=signature)


def tflite_chunk_fn(runner, signature: str = "chunk") -> Callable:
    """window -> audio for a TFLite ``"chunk"`` signature (its single input and first output)."""
    name = runner.input_details(signature)[0]["name"]
    out = runner.output_names(signature)[0]
    return lambda window: runner.run({name: window}, signature=signature)[out]


def keras_endpoint_fn(model, name: str) -> Callable[[dict], dict]:
    """``feed dict -> output dict`` (``output_i`` / dict keys, as in the ``.tflite``) for a model endpoint, traced once."""
    import tensorflow as tf

    from tflite_export.export import _tensor_specs, outputs_as_dict
    from tflite_export.quantization import endpoint_by_name

    ep = endpoint_by_name(model, name)
    names = ep.input_names()
    fn = tf.function(lambda *a: outputs_as_dict(ep.function(*a)), input_signature=_tensor_specs(ep), autograph=False)

    def call(feed):
        out = fn(*[tf.convert_to_tensor(feed[n]) for n in names])
        return {k: v.numpy() for k, v in out.items()}

    return call


def keras_chunk_fn(model, name: str = "chunk") -> Callable:
    """window -> audio for a Keras model's ``"chunk"`` endpoint (first output)."""
    call = keras_endpoint_fn(model, name)
    from tflite_export.quantization import endpoint_by_name

    in_name = endpoint_by_name(model, name).input_names()[0]
    return lambda window: next(iter(call({in_name: window}).values()))


def chunk_geometry(model, name: str = "chunk") -> tuple[int, int]:
    """``(chunk_frames, context_frames)`` of a Keras vocoder's chunk endpoint (from its input and output sizes)."""
    from tflite_export.quantization import endpoint_by_name

    ep = endpoint_by_name(model, name)
    width = int(ep.input_signature[0].shape[1])
    out = keras_chunk_fn(model, name)(np.full((1, width, int(model.n_mels)), LOG_FLOOR, np.float32))
    chunk = int(np.asarray(out).size) // int(model.hop_length)
    return chunk, (width - chunk) // 2


# ---------------------------------------------------------------------------------------- autoregressive
class StepLoop:
    """Call a one-step endpoint repeatedly, feeding its new state back as the next call's state.

    Args:
        call: ``feed dict -> output dict`` (:func:`tflite_endpoint_fn` or :func:`keras_endpoint_fn`).
        state: input name -> initial array.
        state_outputs: input name -> output name carrying its next value.

    Example:
        >>> loop = StepLoop(lambda f: {"y": f["s"] + 1}, {"s": np.zeros(1)}, {"s": "y"})
        >>> [float(loop({})["y"][0]) for _ in range(3)]
        [1.0, 2.0, 3.0]
    """

    def __init__(self, call, state: dict, state_outputs: dict):
        self.call, self.state, self.state_outputs = call, {k: np.asarray(v) for k, v in state.items()}, dict(state_outputs)

    def __call__(self, feed: dict) -> dict:
        out = self.call({**self.state, **feed})
        for name, out_name in self.state_outputs.items():
            self.state[name] = out[out_name]
        return out


def _queue_inputs(details, prefix):
    return [d for d in details if d["name"].startswith(prefix)]


def _gumbel_argmax(logits, rng, temperature=1.0):
    u = rng.uniform(1e-6, 1.0 - 1e-6, logits.shape)
    return np.argmax(logits / temperature - np.log(-np.log(u)), axis=-1).astype(np.int32)


def wavenet_stream(call, input_details: list[dict], num_samples: int, quantization_channels: int = 256,
                   teacher_ids=None, global_id=None, local=None, seed: int = 0, sample_rate: int = 16000,
                   temperature: float = 1.0) -> StreamResult:
    """WaveNet one sample per call: the ``"step"`` endpoint with its conv queues as state (Paine et al. 2016).

    Args:
        call: ``feed dict -> output dict`` of the step endpoint; outputs ``output_0`` (logits) then the new
            queues ``output_1..``.
        input_details: the step's inputs (``name`` and ``shape``/``shape_signature``), e.g.
            ``runner.input_details("step")``; queues start at zero.
        num_samples: steps to run.
        quantization_channels: ``Q`` (softmax output); the first input is the silence id ``Q // 2``.
        teacher_ids: (num_samples,) ids to feed instead of sampling (teacher forcing, for parity checks).
        global_id: class / speaker id for a globally conditioned model.
        local: (num_samples, local_channels) upsampled conditioning (the ``"upsample"`` endpoint's output).
        seed: Gumbel-max sampling seed.

    Returns:
        :class:`StreamResult`: ``audio`` = mu-law decoded samples, ``extra["ids"]``, ``extra["logits"]``
        (num_samples, Q); ``first_chunk_latency`` = first step.
    """
    queues = _queue_inputs(input_details, "queue_")
    loop = StepLoop(call, {d["name"]: np.zeros(d["shape"], np.float32) for d in queues},
                    {d["name"]: f"output_{1 + int(d['name'].split('_')[1])}" for d in queues})
    rng = np.random.default_rng(seed)
    prev = np.full((1,), quantization_channels // 2, np.int32)
    ids, logits, times = [], [], []
    start = time.perf_counter()
    for t in range(int(num_samples)):
        feed = {"x_t": prev}
        if global_id is not None:
            feed["global_id"] = np.asarray([global_id], np.int32).reshape(1)
        if local is not None:
            feed["local_t"] = np.asarray(local, np.float32).reshape(-1, np.shape(local)[-1])[t][None]
        t0 = time.perf_counter()
        out = loop(feed)
        times.append(time.perf_counter() - t0)
        lg = np.asarray(out["output_0"], np.float32)
        logits.append(lg[0])
        nxt = _gumbel_argmax(lg, rng, temperature) if teacher_ids is None else np.asarray([teacher_ids[t]], np.int32)
        ids.append(int(nxt[0]))
        prev = nxt.astype(np.int32)
    return _ar_result(ids, logits, times, start, quantization_channels, sample_rate)


def wavernn_stream(call, input_details: list[dict], cond, quantization_channels: int = 256, teacher_ids=None,
                   seed: int = 0, sample_rate: int = 16000, silence_id: int | None = None) -> StreamResult:
    """WaveRNN one sample per call: the ``"step"`` endpoint (GRU state in and out, Gumbel-max inside).

    Args:
        call: ``feed dict -> output dict`` of the step; outputs ``output_0`` ids, ``output_1`` logits, then states.
        input_details: the step's inputs (states start at zero; ``noise`` shape read from here).
        cond: (samples, cond_channels) per-sample conditioning (the ``"condition"`` endpoint's output).
        teacher_ids: ids to feed back instead of the sampled ones (teacher forcing).
        silence_id: first input id (default ``Q // 2``).

    Returns:
        :class:`StreamResult` with ``extra["ids"]`` and ``extra["logits"]``.
    """
    states = _queue_inputs(input_details, "state_")
    noise_shape = [d for d in input_details if d["name"] == "noise"][0]["shape"]
    loop = StepLoop(call, {d["name"]: np.zeros(d["shape"], np.float32) for d in states},
                    {d["name"]: f"output_{2 + int(d['name'].split('_')[1])}" for d in states})
    rng = np.random.default_rng(seed)
    cond = np.asarray(cond, np.float32).reshape(-1, np.shape(cond)[-1])
    prev = np.full((1,), quantization_channels // 2 if silence_id is None else silence_id, np.int32)
    ids, logits, times = [], [], []
    start = time.perf_counter()
    for t in range(cond.shape[0]):
        feed = {"x_prev": prev, "cond_t": cond[t][None],
                "noise": rng.uniform(1e-6, 1.0 - 1e-6, noise_shape).astype(np.float32)}
        t0 = time.perf_counter()
        out = loop(feed)
        times.append(time.perf_counter() - t0)
        logits.append(np.asarray(out["output_1"], np.float32)[0])
        nxt = np.asarray(out["output_0"], np.int32).reshape(1)
        ids.append(int(nxt[0]))
        prev = nxt if teacher_ids is None else np.asarray([teacher_ids[t]], np.int32)
    return _ar_result(ids, logits, times, start, quantization_channels, sample_rate)


def _mu_law_decode(ids, q):
    y = 2.0 * np.asarray(ids, np.float64) / (q - 1) - 1.0
    mu = q - 1
    return (np.sign(y) * ((1.0 + mu) ** np.abs(y) - 1.0) / mu).astype(np.float32)


def _ar_result(ids, logits, times, start, q, sample_rate):
    ids = np.asarray(ids, np.int32)
    audio = _mu_law_decode(ids, q) if q <= 1024 else (ids.astype(np.float32) / 32768.0 - 1.0)
    compute = float(sum(times))
    seconds = ids.size / float(sample_rate)
    first = times[0] if times else float("nan")
    return StreamResult(audio, first, compute, seconds, compute / seconds if seconds else float("nan"), times,
                        {"ids": ids, "logits": np.stack(logits) if logits else np.zeros((0,))})

"""Quantize one endpoint of a model in every TFLite mode and report file size and output error per mode.

The error is measured against the float (Keras) model on held-out inputs: the multi-resolution STFT
distance (Yamamoto et al., "Parallel WaveGAN", ICASSP 2020) of the waveform for vocoders, and the max
absolute error for everything else (the max abs error is always reported too). Full-int8 needs a
representative dataset: for vocoders :func:`vocoder_representative_dataset` draws real log-mel segments
from the model's own ``tf.data`` pipeline (:func:`audiogen_tf.data.segment_dataset` over the built-in
synthetic notes); other models are calibrated on :func:`sample_inputs`. A mode that does not convert is
reported with the :class:`~tflite_export.export.ExportError` message (or raised with ``strict=True``).

Example:
    >>> from zoo.hifigan import HiFiGANGenerator                                   # doctest: +SKIP
    >>> g = HiFiGANGenerator.from_preset("hifigan_tiny")                            # doctest: +SKIP
    >>> rows = quantize_all(g, "chunk", vocoder_representative_dataset(g, "chunk"), "out/q")  # doctest: +SKIP
    >>> [(r["mode"], r["file_bytes"], r["mr_stft"]) for r in rows]                   # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile

import keras
import numpy as np

from tflite_export.endpoints import Endpoint, get_endpoints
from tflite_export.export import DEFAULT_ATOL, QUANTIZATION_MODES, ExportError, export_tflite, outputs_as_dict
from tflite_export.runtime import TFLiteRunner

__all__ = [
    "endpoint_by_name",
    "is_vocoder",
    "notes_mel_segments",
    "quantize_all",
    "sample_inputs",
    "vocoder_mel_config",
    "vocoder_representative_dataset",
]

# Names of integer inputs -> how to find their number of valid values on the model.
_ID_RANGES = (
    ("x_t", ("quantization_channels",)),
    ("x_prev", ("quantization_channels",)),
    ("token", ("codebook_size",)),  # the prior's start token is codebook_size itself
    ("codes", ("codebook_size",)),
    ("label", ("num_classes",)),
    ("class_id", ("num_classes",)),
    ("global_id", ("global_classes",)),
)


def endpoint_by_name(model, name=None) -> Endpoint:
    """The model's endpoint ``name`` (``None``: the first one); :class:`ExportError` lists the names otherwise."""
    eps = get_endpoints(model)
    if name is None:
        return eps[0]
    for ep in eps:
        if ep.name == name:
            return ep
    raise ExportError(f"{type(model).__name__} has no endpoint '{name}'; endpoints: {[e.name for e in eps]}")


def _spec_shape(spec, dynamic_frames):
    return [(1 if i == 0 else dynamic_frames) if d is None else int(d) for i, d in enumerate(spec.shape)]


def _id_range(model, name) -> int:
    for key, attrs in _ID_RANGES:
        if name == key or name.startswith(key):
            for attr in attrs:
                n = int(getattr(model, attr, 0) or 0)
                if n:
                    return n + (1 if key == "token" else 0)
    if name == "text_ids":
        if hasattr(model, "frontend"):  # a text model with its own front end (CTC TTS)
            return len(model.frontend.table)
        return int(model.encoder.vocabulary_size)
    return 2


def sample_inputs(model, endpoint, seed: int = 0, dynamic_frames: int = 16) -> list[np.ndarray]:
    """Plausible random inputs for an endpoint, in argument order, chosen by input name.

    Floats are uniform in [-1, 1] except: ``mel`` log-mels in [-8, 1]; ``noise`` uniform in (0, 1)
    (Gumbel / inverse-CDF noise); ``*_mask`` ones; ``memory_mask`` ones. Integers are valid ids:
    ``x_t`` / ``x_prev`` in ``[0, quantization_channels)``, ``codes`` in ``[0, codebook_size)``,
    labels in ``[0, num_classes)``, ``text_ids`` in ``[1, vocabulary)`` and ``text_lengths`` the full
    length. ``None`` dims become 1 (batch) or ``dynamic_frames``.

    Args:
        model: the model the endpoint belongs to (read for id ranges).
        endpoint: an :class:`Endpoint` or its name.
        seed: NumPy seed.
        dynamic_frames: size of dynamic non-batch dimensions.

    Example:
        >>> from zoo.wavenet import WaveNet
        >>> m = WaveNet.from_preset("wavenet_tiny")
        >>> [a.shape for a in sample_inputs(m, "step")][:2]
        [(1,), (1, 1, 256)]
    """
    ep = endpoint if isinstance(endpoint, Endpoint) else endpoint_by_name(model, endpoint)
    rng = np.random.default_rng(seed)
    arrays = []
    for spec, name in zip(ep.input_signature, ep.input_names()):
        shape = _spec_shape(spec, dynamic_frames)
        dtype = np.dtype(keras.backend.standardize_dtype(getattr(spec, "dtype", None) or "float32"))
        if dtype.kind == "f":
            if name == "mel" or name.endswith("_mel"):
                x = rng.uniform(-8.0, 1.0, shape)
            elif "noise" in name:
                x = rng.uniform(1e-3, 1.0 - 1e-3, shape)
            elif name.endswith("mask") or name.startswith("prenet_mask"):
                x = np.ones(shape)
            else:
                x = rng.uniform(-1.0, 1.0, shape)
            arrays.append(x.astype(dtype))
        elif name == "text_lengths":
            n = int(ep.input_signature[0].shape[-1]) if ep.input_names()[0] == "text_ids" else 1
            arrays.append(np.full(shape, n, dtype))
        elif name == "text_ids":
            arrays.append(rng.integers(1, _id_range(model, name), shape).astype(dtype))
        else:
            arrays.append(rng.integers(0, _id_range(model, name), shape).astype(dtype))
    return arrays


def is_vocoder(model) -> bool:
    """A mel -> waveform model: has ``hop_length`` and ``n_mels`` and a ``synthesize`` or ``chunk`` endpoint."""
    if not (hasattr(model, "hop_length") and hasattr(model, "n_mels") and hasattr(model, "export_endpoints")):
        return False
    try:
        names = {e.name for e in get_endpoints(model)}
    except Exception:
        return False
    return bool(names & {"synthesize", "chunk"})


def vocoder_mel_config(model, sample_rate: int | None = None):
    """The :class:`~audiogen_tf.features.MelConfig` of a vocoder: the settings it carries (``feature_settings``).

    Only a model file saved before models carried their features (``mel_config`` None) gets the documented
    stand-in: its ``n_mels`` and ``hop_length``, ``n_fft = win = 4 * hop`` (HiFi-GAN's 1024 / 256 ratio),
    ``fmax`` = Nyquist at ``sample_rate`` (default 16000). ``sample_rate``, given, must match carried settings.
    """
    from audiogen_tf.errors import ConfigError
    from audiogen_tf.features import MelConfig

    if getattr(model, "has_features", False):
        cfg = model.feature_settings
        if sample_rate is not None and int(sample_rate) != cfg.sample_rate:
            raise ConfigError(f"{type(model).__name__} works at {cfg.sample_rate} Hz, not {sample_rate}")
        return cfg
    sample_rate = int(sample_rate or 16000)
    hop = int(model.hop_length)
    return MelConfig(sample_rate=sample_rate, n_fft=4 * hop, hop_length=hop, win_length=4 * hop,
                     n_mels=int(model.n_mels), fmax=sample_rate / 2)


def notes_mel_segments(model, frames: int, count: int = 8, data_dir=None, seed: int = 0, sample_rate: int | None = None):
    """``count`` log-mel segments (1, frames, n_mels) and their audio from the built-in notes through ``segment_dataset``.

    Args:
        model: a vocoder (``n_mels``, ``hop_length``).
        frames: mel frames per segment.
        count: number of segments.
        data_dir: where the built-in notes are written (default: a folder in the system temp dir, reused).
        sample_rate: of a model without carried features (see :func:`vocoder_mel_config`).

    Returns:
        ``(mels, audios)``: lists of float32 arrays (1, frames, n_mels) and (1, frames * hop).
    """
    from audiogen_tf.data import segment_dataset
    from audiogen_tf.datasets.notes import make_notes

    cfg = vocoder_mel_config(model, sample_rate)  # the model's own features
    data_dir = data_dir or os.path.join(tempfile.gettempdir(), f"audiogen_export_notes_{cfg.sample_rate}")
    manifest = make_notes(data_dir, sample_rate=cfg.sample_rate, seconds=1.0, pitches=range(48, 73, 4),
                          variations=1, progress=False)
    length = int(frames) * cfg.hop_length
    ds = segment_dataset(manifest, length, batch_size=1, mel_config=cfg, shuffle=True, seed=seed,
                         deterministic=True, repeat=True)
    mels, audios = [], []
    for batch in ds.take(int(count)):
        mels.append(np.asarray(batch["mel"], np.float32))
        audios.append(np.asarray(batch["audio"], np.float32))
    return mels, audios


def vocoder_representative_dataset(model, endpoint="chunk", count: int = 8, data_dir=None, seed: int = 0):
    """A callable yielding ``count`` real log-mel inputs for a vocoder endpoint (int8 calibration).

    The mels come from :func:`notes_mel_segments` (the model's own ``tf.data`` pipeline on the built-in
    notes); a dynamic-length endpoint gets 32-frame segments.

    Example:
        >>> calib = vocoder_representative_dataset(g, "chunk")                # doctest: +SKIP
        >>> export_tflite(g, "g_int8.tflite", "int8", calib, endpoint="chunk")  # doctest: +SKIP
    """
    ep = endpoint if isinstance(endpoint, Endpoint) else endpoint_by_name(model, endpoint)
    frames = ep.input_signature[0].shape[1] or 32
    mels, _ = notes_mel_segments(model, int(frames), count=count, data_dir=data_dir, seed=seed)

    def gen():
        for mel in mels:
            yield [mel]

    return gen


def _sampled_representative_dataset(model, ep, count=8, seed=100):
    samples = [sample_inputs(model, ep, seed=seed + i) for i in range(count)]

    def gen():
        yield from samples

    return gen


def _reference(ep, inputs) -> dict:
    out = outputs_as_dict(ep.function(*inputs))
    return {k: np.asarray(keras.ops.convert_to_numpy(v)) for k, v in out.items()}


def _max_abs(ref: dict, got: dict) -> float:
    err = 0.0
    if set(ref) != set(got):
        ref = dict(zip(got, ref.values()))
    for k, want in ref.items():
        have = got[k]
        if have.shape != want.shape:
            raise ExportError(f"output '{k}' has shape {have.shape}, reference {want.shape}")
        if want.size and want.dtype.kind == "f":
            err = max(err, float(np.max(np.abs(have.astype(np.float64) - want.astype(np.float64)))))
        elif want.size:
            err = max(err, float(np.mean(have != want)))  # integer outputs (ids): fraction that differ
    return err


def quantize_all(model, endpoint, representative_dataset_fn=None, out_dir=None, modes=QUANTIZATION_MODES,
                 eval_inputs=None, strict: bool = False, num_threads: int = 2) -> list[dict]:
    """Export one endpoint in each quantization mode; report file size and output error vs the float model.

    Args:
        model: a model with the endpoint (``export_endpoints()`` or the default ``"serve"``).
        endpoint: endpoint name (``None``: the first).
        representative_dataset_fn: callable yielding int8 calibration samples (a list of arrays in argument
            order); default: :func:`vocoder_representative_dataset` for vocoders, else :func:`sample_inputs`.
        out_dir: folder for the ``{model}_{endpoint}_{mode}.tflite`` files (default: a temp folder).
        modes: subset of ``("none", "float16", "dynamic", "int8")``.
        eval_inputs: list of input lists (argument order) to measure the error on; default: 3 fresh
            samples (real notes mels for vocoders, never the calibration ones).
        strict: raise the :class:`ExportError` of a mode that does not convert instead of reporting it.
        num_threads: TFLite interpreter threads.

    Returns:
        one dict per mode: ``mode``, ``path``, ``file_bytes``, ``max_abs_error``, ``mr_stft`` (vocoders, else
        ``None``), ``error`` (the headline number: MR-STFT for vocoders, max abs otherwise), ``metric``,
        ``tolerance`` (:data:`DEFAULT_ATOL` of the mode), ``status`` (``"ok"`` or ``"refused"``), ``message``.

    Raises:
        ExportError: an unknown mode; with ``strict=True`` also a mode that does not convert.

    Example:
        >>> rows = quantize_all(g, "chunk", out_dir="out/q")                  # doctest: +SKIP
    """
    from audiogen_tf.metrics import multi_resolution_stft_distance

    unknown = [m for m in modes if m not in QUANTIZATION_MODES]
    if unknown:
        raise ExportError(f"Unknown quantization mode(s) {unknown}. Choose from {QUANTIZATION_MODES}.")
    ep = endpoint_by_name(model, endpoint)
    vocoder = is_vocoder(model) and ep.name in ("synthesize", "chunk")
    if representative_dataset_fn is None and "int8" in modes:
        representative_dataset_fn = (vocoder_representative_dataset(model, ep, seed=1) if vocoder
                                     else _sampled_representative_dataset(model, ep))
    if eval_inputs is None:
        if vocoder:
            frames = ep.input_signature[0].shape[1] or 32
            mels, _ = notes_mel_segments(model, int(frames), count=3, seed=12345)
            eval_inputs = [[m] for m in mels]
        else:
            eval_inputs = [sample_inputs(model, ep, seed=1000 + i) for i in range(3)]
    references = [_reference(ep, x) for x in eval_inputs]
    name = getattr(model, "name", type(model).__name__)
    out_dir = out_dir or tempfile.mkdtemp(prefix="audiogen-quant-")
    os.makedirs(out_dir, exist_ok=True)
    rows = []
    for mode in modes:
        path = os.path.join(os.fspath(out_dir), f"{name}_{ep.name}_{mode}.tflite")
        row = {"model": name, "endpoint": ep.name, "mode": mode, "path": None, "file_bytes": None,
               "max_abs_error": None, "mr_stft": None, "error": None,
               "metric": "mr_stft" if vocoder else "max_abs", "tolerance": DEFAULT_ATOL[mode],
               "status": "ok", "message": ""}
        try:
            export_tflite(model, path, quantization=mode, endpoint=ep.name,
                          representative_dataset=representative_dataset_fn if mode == "int8" else None)
        except ExportError as e:
            if strict:
                raise
            row.update(status="refused", message=str(e))
            rows.append(row)
            continue
        runner = TFLiteRunner(path, num_threads=num_threads)
        names = ep.input_names()
        max_abs, stft = 0.0, []
        for x, ref in zip(eval_inputs, references):
            got = runner.run(dict(zip(names, x)), signature=ep.name)
            max_abs = max(max_abs, _max_abs(ref, got))
            if vocoder:
                a, b = next(iter(ref.values())).reshape(-1), next(iter(got.values())).reshape(-1)
                stft.append(multi_resolution_stft_distance(a, b, resolutions=_resolutions(a.size))["total"])
        row.update(path=path, file_bytes=os.path.getsize(path), max_abs_error=max_abs)
        if vocoder:
            row["mr_stft"] = float(np.mean(stft))
        row["error"] = row["mr_stft"] if vocoder else max_abs
        rows.append(row)
    return rows


def _resolutions(n: int):
    """Parallel WaveGAN's three STFT resolutions, halved until they fit a short test clip."""
    res = [(1024, 120, 600), (2048, 240, 1200), (512, 50, 240)]
    while max(r[0] for r in res) > max(n, 64):
        res = [(f // 2, max(h // 2, 1), w // 2) for f, h, w in res]
    return res

"""Evaluate a folder of generated audio against a reference folder: per-file and corpus metrics, JSON + markdown.

Files are paired by name (``a.wav`` in both folders; a generated ``a_hifigan.wav`` also pairs with
reference ``a.wav`` when ``suffix="_hifigan"``). Paired metrics come from :mod:`audiogen_tf.metrics`
(MR-STFT, LSD, MCD, SNR, SI-SDR, F0 RMSE in cents, V/UV F1 and voicing error from one pYIN pass per
file, PESQ-WB, STOI and DNSMOS P.835 where installed). When an
encoder is given, the whole sets are also judged in its embedding space with :mod:`audiogen_tf.judge`
(Fréchet distance, Inception Score, and accuracy when the intended labels are known). When the texts are
known (a manifest with a ``text`` column in the reference folder, or ``texts``), pocketsphinx transcribes the
generated speech and the word error rate is reported per file and for the corpus (total edits / total
reference words). A missing optional judge is reported under ``skipped``, never as a crash.

Example:
    >>> report = evaluate_folder("out/generated", "data/reference")          # doctest: +SKIP
    >>> write_report(report, "out/generated/evaluation")                     # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import warnings

import numpy as np

from audiogen_tf import audio, manifest, metrics
from audiogen_tf.atomic import atomic_write_text
from audiogen_tf.errors import AudioFileError, ConfigError


def _files_by_stem(folder, suffix: str = "") -> dict[str, str]:
    out = {}
    for entry in manifest.entries_from_glob(folder):
        stem = os.path.splitext(os.path.basename(entry["path"]))[0]
        if suffix and stem.endswith(suffix):
            stem = stem[: -len(suffix)]
        out[stem] = entry["path"]
    return out


def evaluate_folder(
    generated_dir, reference_dir=None, *, sample_rate: int | None = None, suffix: str = "", encoder=None,
    labels: dict | None = None, with_f0: bool = True, progress: bool = True, texts=None, with_wer: bool = True,
    with_dnsmos: bool = True, f0_range: tuple[float, float] = metrics.F0_RANGE, recognizer=None,
) -> dict:
    """Metrics of every generated file paired with its reference, their means, and encoder judgements.

    Args:
        generated_dir: folder of generated audio.
        reference_dir: folder of reference audio (paired by file name), or ``None`` for encoder-only judging.
        sample_rate: rate both sides are loaded at (default: each reference's own rate).
        suffix: ending of generated stems to drop before pairing (e.g. ``"_hifigan"``).
        encoder: optional trained encoder (``embed`` / ``classify``, e.g. ``zoo.encoders.MelCNNEncoder``).
        labels: optional ``{stem: class id}`` of the generated files, for the encoder accuracy.
        with_f0: include pYIN pitch metrics (F0 RMSE in cents, V/UV F1, voicing error; slow on long files).
        progress: show a tqdm bar.
        texts: what each generated file should say: ``{stem: text}`` or a manifest with a ``text`` column (its
            file stems are the keys); default: a manifest with ``text`` found in ``reference_dir``.
        with_wer: transcribe and score word error rate when texts are known.
        with_dnsmos: judge each generated file with DNSMOS P.835 (``dnsmos_sig/bak/ovrl``) when ``speechmos``
            is installed (else one reason under ``skipped``).
        f0_range: pYIN ``(fmin, fmax)`` in Hz of the pitch metrics (``metrics.SPEECH_F0_RANGE`` for speech only).
        recognizer: optional second judge with ``transcribe(audio, sr) -> str`` (e.g. the zoo's
            ``CTCRecognizer``): per-file ``cer`` and ``wer_recognizer`` and their corpus rates, when texts are known.

    Returns:
        ``{"per_file": {stem: {metric: value}}, "corpus": {metric: mean}, "counts": {...},
        "skipped": [reasons], "encoder": {...} or absent, "transcripts": {stem: {"text", "heard"}} or absent}``;
        ``corpus["wer"]`` is total word edits / total reference words, not a mean of the per-file rates.
    """
    from tqdm import tqdm

    generated = _files_by_stem(generated_dir, suffix)
    if not generated:
        raise ConfigError(f"{generated_dir}: no audio files to evaluate")
    report: dict = {"per_file": {}, "corpus": {}, "skipped": [], "counts": {"generated": len(generated)}}
    if reference_dir is not None:
        references = _files_by_stem(reference_dir)
        pairs = sorted(set(generated) & set(references))
        report["counts"].update(reference=len(references), paired=len(pairs))
        if not pairs:
            raise ConfigError(f"no file names in common between {generated_dir} and {reference_dir}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", metrics.MetricUnavailableWarning)
            for stem in tqdm(pairs, desc="evaluating", unit="file", disable=not progress):
                try:
                    ref, sr = audio.load(references[stem], sr=sample_rate)
                    est, _ = audio.load(generated[stem], sr=sr)
                    for path, x in ((references[stem], ref), (generated[stem], est)):
                        if len(x) < audio.DEFAULT_MIN_SECONDS * sr:  # STOI, PESQ, pYIN fail on a few samples
                            raise AudioFileError(path, "too_short", f"{len(x)} sample(s), under "
                                                 f"{audio.DEFAULT_MIN_SECONDS * 1000:.0f} ms: pair {stem} skipped")
                    report["per_file"][stem] = metrics.evaluate_pair(
                        ref, est, sr, with_f0=with_f0, with_dnsmos=with_dnsmos, f0_range=f0_range
                    )
                except AudioFileError as err:
                    report["skipped"].append(str(err))
                except (ValueError, IndexError, FloatingPointError) as err:  # a metric library failed on this pair
                    report["skipped"].append(f"{generated[stem]}: pair {stem} skipped: a metric failed "
                                             f"({type(err).__name__}: {str(err)[:160]})")
        for w in caught:
            if issubclass(w.category, metrics.MetricUnavailableWarning) and str(w.message) not in report["skipped"]:
                report["skipped"].append(str(w.message))
        keys = sorted({k for scores in report["per_file"].values() for k in scores})
        for key in keys:
            values = [s[key] for s in report["per_file"].values() if s.get(key) is not None and math.isfinite(s[key])]
            report["corpus"][key] = float(np.mean(values)) if values else None
    if with_wer:
        if texts is None and reference_dir is not None:
            texts = find_text_manifest(reference_dir)
        if texts is not None:
            _word_error_rates(report, generated, texts_by_stem(texts), progress)
            if recognizer is not None:
                _character_error_rates(report, generated, texts_by_stem(texts), recognizer, progress)
    if encoder is not None:
        report["encoder"] = _judge_with_encoder(encoder, generated, labels, reference_dir, sample_rate, report["skipped"])
    return report


def texts_by_stem(texts) -> dict[str, str]:
    """``{file stem: text}`` from a dict (returned as is) or a manifest path (entries without text are left out)."""
    if isinstance(texts, dict):
        return {str(k): str(v) for k, v in texts.items()}
    entries = manifest.read_manifest(texts)
    return {os.path.splitext(os.path.basename(e["path"]))[0]: str(e["text"]) for e in entries if e.get("text")}


def find_text_manifest(folder) -> str | None:
    """The first ``*.csv`` / ``*.jsonl`` manifest directly in ``folder`` (``manifest.*`` first) with a ``text`` column."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        return None
    names = sorted(n for n in os.listdir(folder) if n.endswith((".csv", ".jsonl")))
    names.sort(key=lambda n: not n.startswith("manifest."))
    for name in names:
        try:
            entries = manifest.read_manifest(os.path.join(folder, name))
        except (ConfigError, UnicodeDecodeError, ValueError):
            continue
        if any(e.get("text") for e in entries):
            return os.path.join(folder, name)
    return None


def _word_error_rates(report: dict, generated: dict, texts: dict, progress: bool) -> None:
    """Add per-file ``wer``, ``corpus["wer"]`` (total edits / total words) and ``transcripts`` to ``report``."""
    from tqdm import tqdm

    stems = sorted(set(generated) & set(texts))
    report["counts"]["with_text"] = len(stems)
    if not stems:
        report["skipped"].append("WER not computed: no generated file has a text")
        return
    edits = words = 0
    transcripts = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", metrics.MetricUnavailableWarning)
        for stem in tqdm(stems, desc="transcribing", unit="file", disable=not progress):
            try:
                est, sr = audio.load(generated[stem])
            except AudioFileError as err:
                if str(err) not in report["skipped"]:
                    report["skipped"].append(str(err))
                continue
            heard = metrics.recognize(est, sr)
            if heard is None:  # no judge: one reason under skipped, no WER at all
                break
            e, n = metrics.word_edits(texts[stem], heard)
            edits, words = edits + e, words + n
            report["per_file"].setdefault(stem, {})["wer"] = metrics.word_error_rate(texts[stem], heard)
            transcripts[stem] = {"text": texts[stem], "heard": heard}
    for w in caught:
        if issubclass(w.category, metrics.MetricUnavailableWarning) and str(w.message) not in report["skipped"]:
            report["skipped"].append(str(w.message))
    if transcripts:
        report["transcripts"] = transcripts
        report["counts"]["transcribed"] = len(transcripts)
        report["corpus"]["wer"] = edits / words if words else None


def _character_error_rates(report: dict, generated: dict, texts: dict, recognizer, progress: bool) -> None:
    """Add per-file ``cer`` / ``wer_recognizer`` by ``recognizer.transcribe`` and their corpus rates (total edits /
    total reference characters or words) to ``report``; the transcripts go under ``transcripts[stem]["recognizer"]``."""
    from tqdm import tqdm

    stems = sorted(set(generated) & set(texts))
    chars = char_edits = words = word_edits = 0
    transcripts = report.setdefault("transcripts", {})
    for stem in tqdm(stems, desc="recognizer", unit="file", disable=not progress):
        try:
            est, sr = audio.load(generated[stem])
        except AudioFileError:
            continue
        heard = recognizer.transcribe(est, sr)
        e, n = metrics.character_edits(texts[stem], heard)
        we, wn = metrics.word_edits(texts[stem], heard)
        chars, char_edits, words, word_edits = chars + n, char_edits + e, words + wn, word_edits + we
        scores = report["per_file"].setdefault(stem, {})
        scores["cer"] = metrics.character_error_rate(texts[stem], heard)
        scores["wer_recognizer"] = metrics.word_error_rate(texts[stem], heard)
        transcripts.setdefault(stem, {"text": texts[stem]})["recognizer"] = heard
    report["corpus"]["cer"] = char_edits / chars if chars else None
    report["corpus"]["wer_recognizer"] = word_edits / words if words else None


def _load_all(paths: dict, rate, skipped: list) -> dict:
    """``{stem: audio}`` of every readable file; the others are added to ``skipped`` with their reason."""
    out = {}
    for stem, path in sorted(paths.items()):
        try:
            out[stem] = audio.load(path, sr=rate)[0]
        except AudioFileError as err:
            if str(err) not in skipped:
                skipped.append(str(err))
    return out


def _judge_with_encoder(encoder, generated, labels, reference_dir, sample_rate, skipped):
    from audiogen_tf import judge

    rate = sample_rate or getattr(encoder, "sample_rate", None)
    clips_by_stem = _load_all(generated, rate, skipped)
    stems = sorted(clips_by_stem)
    clips = [clips_by_stem[s] for s in stems]
    real = None
    if reference_dir is not None:
        real = list(_load_all(_files_by_stem(reference_dir), rate, skipped).values())
    wanted = None
    if labels:
        missing = [s for s in stems if s not in labels]
        if missing:
            raise ConfigError(f"no intended label for {len(missing)} generated files, e.g. {missing[0]}")
        wanted = np.array([int(labels[s]) for s in stems])
    return judge.judge_audio(encoder, clips, real, labels=wanted)


def _fmt(value) -> str:
    if value is None:
        return "skipped"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def report_markdown(report: dict) -> str:
    """The report as markdown: corpus means, encoder judgements, per-file rows and what was skipped."""
    lines = ["# Evaluation", ""]
    counts = report.get("counts", {})
    lines.append(", ".join(f"{k}: {v}" for k, v in counts.items()))
    if report.get("corpus"):
        lines += ["", "## Corpus means", "", "| metric | value |", "| --- | --- |"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in report["corpus"].items()]
    if report.get("encoder"):
        lines += ["", "## Encoder judgements", "", "| measure | value |", "| --- | --- |"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in report["encoder"].items()]
    if report.get("per_file"):
        keys = sorted({k for s in report["per_file"].values() for k in s})
        lines += ["", "## Per file", "", "| file | " + " | ".join(keys) + " |", "|" + " --- |" * (len(keys) + 1)]
        for stem, scores in sorted(report["per_file"].items()):
            lines.append(f"| {stem} | " + " | ".join(_fmt(scores.get(k)) for k in keys) + " |")
    if report.get("transcripts"):
        judged = any("recognizer" in t for t in report["transcripts"].values())
        head = "| file | text | heard |" + (" recognizer |" if judged else "")
        lines += ["", "## Transcripts (pocketsphinx" + (", zoo recognizer" if judged else "") + ")", "", head,
                  "| --- | --- | --- |" + (" --- |" if judged else "")]
        lines += [f"| {stem} | {t['text']} | {t.get('heard', '')} |" + (f" {t.get('recognizer', '')} |" if judged else "")
                  for stem, t in sorted(report["transcripts"].items())]
    if report.get("skipped"):
        lines += ["", "## Skipped", ""] + [f"- {reason}" for reason in report["skipped"]]
    return "\n".join(lines) + "\n"


def write_report(report: dict, out_prefix) -> tuple[str, str]:
    """Write ``out_prefix.json`` and ``out_prefix.md`` atomically; returns both paths."""
    out_prefix = os.fspath(out_prefix)

    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if isinstance(value, np.generic):
            return clean(value.item())
        return value

    json_path = atomic_write_text(out_prefix + ".json", json.dumps(clean(report), indent=1, sort_keys=True) + "\n")
    md_path = atomic_write_text(out_prefix + ".md", report_markdown(report))
    return json_path, md_path

"""``audiogen demo``: the main job, end to end, with nothing else to install.

Stages: speak two sentences with the shipped voice through its TFLite bundle (LiteRT only); build a dataset (the
festival speech corpus when festival is installed, otherwise the built-in notes); resynthesize held-out clips
through the feature round trip (log-mel -> Griffin-Lim); train a vocoder briefly with ``model.fit`` (the small
iSTFT vocoder on speech, a tiny HiFi-GAN on notes); synthesize the same clips with it; export it to TFLite and run
it with ``ai_edge_litert``. Writes ``out/*.wav``, spectrogram PNGs and a summary table of what was written and how
long each stage took.
"""

from __future__ import annotations

import contextlib
import os
import time

import numpy as np

#: The demo's features: 16 kHz notes, hop 256 (the tiny HiFi-GAN upsamples 8 x 8 x 4).
DEMO_MEL = dict(sample_rate=16000, n_fft=1024, hop_length=256, win_length=1024, n_mels=80, fmin=0.0, fmax=8000.0)


class _Stages:
    """Times named stages and collects the files each one wrote, for the closing summary."""

    def __init__(self):
        self.rows: list[tuple[str, float, list[str], str]] = []

    @contextlib.contextmanager
    def stage(self, name: str):
        print(f"\n== {name}", flush=True)
        record = {"files": [], "note": ""}
        start = time.perf_counter()
        yield record
        self.rows.append((name, time.perf_counter() - start, record["files"], record["note"]))

    def summary(self) -> str:
        lines = ["", "== summary", f"{'stage':<28} {'seconds':>8}  files  note"]
        for name, seconds, files, note in self.rows:
            lines.append(f"{name:<28} {seconds:8.1f}  {len(files):5d}  {note}")
        total = sum(r[1] for r in self.rows)
        lines.append(f"{'total':<28} {total:8.1f}")
        written = [f for r in self.rows for f in r[2]]
        if written:
            lines.append("written:")
            lines.extend(f"  {f}" for f in written)
        return "\n".join(lines)


def _held_out_notes(entries, count):
    test = [e for e in entries if e.get("split") == "test"] or entries
    # one clip per timbre first, so the demo shows variety
    chosen, seen = [], set()
    for e in test:
        if e.get("timbre", e.get("label")) not in seen:
            chosen.append(e)
            seen.add(e.get("timbre", e.get("label")))
    chosen += [e for e in test if e not in chosen]
    return chosen[:count]


#: Two sentences the demo speaks (not in the voice's training text).
DEMO_SENTENCES = "The library closes early on Sundays during the summer. Please turn off the lights when you leave."
#: Sentences of the festival corpus the demo speaks when it has to build one (the whole corpus: 374, ~4 min).
DEMO_SPEECH_LIMIT = 120


def speak_stage(stages, out_dir, text=DEMO_SENTENCES):
    """Speak ``text`` with the default voice through its TFLite bundle (exported once into ``out_dir``)."""
    from audiogen_cli.say import tflite_engine
    from zoo.voices import DEFAULT_VOICE, VOICES, Voice

    with stages.stage(f"speak with voice '{DEFAULT_VOICE}' (TFLite)") as rec:
        voice = Voice.from_name(DEFAULT_VOICE)
        folder = os.path.join(out_dir, "voice_bundle")
        engine, _ = tflite_engine(voice, folder)
        wav = os.path.join(out_dir, "voice.wav")
        report = voice.say_to_file(text, wav, engine=engine)
        print(f"  said: {text}")
        print(f"  time to first audio {report['first_audio_seconds']:.2f} s, real-time factor "
              f"{report['real_time_factor']:.3f}, {report['seconds']:.1f} s of audio -> {wav}")
        rec["files"] += [wav] + sorted(os.path.join(folder, f) for f in os.listdir(folder))
        rec["note"] = (f"first audio {report['first_audio_seconds']:.2f} s, RTF {report['real_time_factor']:.3f} "
                       f"({VOICES[DEFAULT_VOICE].get('description', '')})")


def _data_stage(stages, data_dir, corpus):
    """Build (or reuse) the speech corpus when festival is there (``corpus`` "auto"/"speech"), else the notes.

    Returns ``(kind, manifest path, MelConfig)``.
    """
    from audiogen_tf import features, manifest
    from audiogen_tf.datasets import notes, speech

    use_speech = corpus == "speech" or (corpus == "auto" and speech.festival_available())
    if use_speech:
        with stages.stage("build festival speech corpus") as rec:
            speech_dir = os.path.join(data_dir, "speech")
            existing = os.path.join(speech_dir, "manifest.csv")
            if os.path.exists(existing):
                manifest_path = existing
            else:
                manifest_path = speech.build_speech_corpus(speech_dir, limit=DEMO_SPEECH_LIMIT, engine="festival")
            entries = manifest.read_manifest(manifest_path)
            rec["note"] = f"{len(entries)} utterances in {speech_dir}"
        return "speech", manifest_path, features.MelConfig.from_dict(features.speech_mel_config())
    mel_config = features.MelConfig(**DEMO_MEL)
    with stages.stage("build built-in notes") as rec:
        notes_dir = os.path.join(data_dir, "notes")
        manifest_path = notes.make_notes(notes_dir, sample_rate=mel_config.sample_rate, progress=True)
        rec["note"] = f"{len(manifest.read_manifest(manifest_path))} notes in {notes_dir} (festival not installed: " \
                      "no speech corpus)" if corpus == "auto" else f"notes in {notes_dir}"
    return "notes", manifest_path, mel_config


def run_demo(out_dir="out", data_dir="data", train_seconds=240.0, num_examples=4, train_vocoder=True,
             speak=True, corpus="auto"):
    """Run every stage of the demo and print a summary; returns the summary rows.

    Args:
        speak: start by speaking two sentences with the shipped voice through TFLite.
        corpus: ``"auto"`` (speech when festival is installed, else notes), ``"speech"`` or ``"notes"``.
    """
    from audiogen_tf import audio, features, manifest, metrics
    from audiogen_tf.plotting import save_spectrogram_png

    os.makedirs(out_dir, exist_ok=True)
    stages = _Stages()
    if speak:
        speak_stage(stages, out_dir)
    kind, manifest_path, mel_config = _data_stage(stages, data_dir, corpus)
    entries = manifest.read_manifest(manifest_path)

    examples = _held_out_notes(entries, num_examples)
    clips = []
    for e in examples:
        x, _ = audio.load(e["path"], sr=mel_config.sample_rate)
        x = x[: len(x) // mel_config.hop_length * mel_config.hop_length]
        clips.append((os.path.splitext(os.path.basename(e["path"]))[0], x))

    with stages.stage("feature round trip (Griffin-Lim)") as rec:
        distances = []
        for name, x in clips:
            log_mel = mel_config.log_mel(x[None, :])
            y = features.log_mel_to_audio(log_mel, mel_config, n_iter=64, length=len(x))[0].numpy()
            rec["files"].append(audio.save(os.path.join(out_dir, f"{name}_original.wav"), x, mel_config.sample_rate))
            rec["files"].append(audio.save(os.path.join(out_dir, f"{name}_griffin_lim.wav"), y, mel_config.sample_rate))
            rec["files"].append(
                save_spectrogram_png(
                    os.path.join(out_dir, f"{name}_griffin_lim.png"),
                    [log_mel[0].numpy(), mel_config.log_mel(y[None, :])[0].numpy()],
                    titles=[f"{name}: original log-mel", "Griffin-Lim resynthesis (64 iterations)"],
                    sample_rate=mel_config.sample_rate, hop_length=mel_config.hop_length,
                )
            )
            distances.append(metrics.multi_resolution_stft_distance(x, y)["total"])
        rec["note"] = f"MR-STFT distance to original: {np.mean(distances):.3f}"

    if kind == "speech":
        from audiogen_cli.demo_vocoder import shipped_vocoder_stage

        shipped_vocoder_stage(stages, mel_config, clips, out_dir)

    if train_vocoder:
        from audiogen_cli.demo_vocoder import vocoder_stages

        vocoder_stages(stages, mel_config, manifest_path, clips, out_dir, train_seconds,
                       family="istft" if kind == "speech" else "hifigan")

    print(stages.summary(), flush=True)
    return stages.rows

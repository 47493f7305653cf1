"""``audiogen data KIND DIR``: build the built-in datasets or index a user's folder."""

from __future__ import annotations

import os


def build_data(args) -> str:
    """Dispatch ``audiogen data`` to the dataset builders; returns the manifest written."""
    if args.kind in ("notes", "sfx", "fluidsynth", "scores"):
        _guard_user_manifest(args.directory, getattr(args, "force", False))
    if args.kind == "notes":
        from audiogen_tf.datasets.notes import make_notes

        path = make_notes(args.directory, sample_rate=args.sample_rate or 16000, seed=args.seed)
    elif args.kind == "sfx":
        from audiogen_tf.datasets.sfx import make_sfx

        path = make_sfx(args.directory, sample_rate=args.sample_rate or 16000, seed=args.seed)
    elif args.kind == "speech":
        from audiogen_tf.datasets.speech import build_speech_corpus, default_sentences

        sentences = None  # the packaged sentences
        generated = getattr(args, "generated_sentences", 0) or 0
        if generated:  # the packaged sentences keep their ids (SLT-0001...) and splits; generated ones follow
            from audiogen_tf.datasets.sentence_grammar import generate_sentences

            sentences = default_sentences() + generate_sentences(generated)
        path = build_speech_corpus(
            args.directory, sentences=sentences, sample_rate=args.sample_rate or 22050, engine=args.engine,
            limit=args.limit,
        )
    elif args.kind == "voices":
        from audiogen_tf.datasets.voices import build_voices_corpus

        names = [v for v in (getattr(args, "voices", "") or "").split(",") if v]
        path = build_voices_corpus(args.directory, voices=names or None, sample_rate=args.sample_rate or 22050,
                                   max_utterances=getattr(args, "max_utterances", None))
    elif args.kind == "fluidsynth":
        from audiogen_tf.datasets.fluidsynth_notes import build_gm_notes

        path = build_gm_notes(args.directory, sample_rate=args.sample_rate or 16000)
    elif args.kind == "scores":
        from audiogen_tf.datasets.scores import build_scores, parse_transpose

        path = build_scores(args.directory, corpus=args.corpus, transpose=parse_transpose(args.transpose),
                            roll_quantum=args.roll_quantum, limit=args.limit)
    elif args.kind == "drums":
        from audiogen_tf.datasets.drums import build_drums, format_summary, read_summary

        _guard_user_manifest(args.directory, getattr(args, "force", False))
        path = build_drums(args.directory, sample_rate=args.sample_rate or 16000, num_samples=args.num_samples,
                           include_unclear=args.include_unclear, seed=args.seed)
        print(format_summary(read_summary(args.directory)), end="")
    else:  # manifest of a user's folder
        path = write_folder_manifest(args.directory, force=getattr(args, "force", False))
    print(f"wrote {path}")
    return path


def _guard_user_manifest(folder, force: bool) -> None:
    """A builder rewrites ``folder/manifest.csv``: refuse (unless ``force``, keeping a .bak) when that file was not
    written by a builder (the folder has no build stamp), i.e. it is the user's."""
    from audiogen_tf.atomic import keep_or_replace
    from audiogen_tf.datasets._common import read_stamp

    target = os.path.join(os.fspath(folder), "manifest.csv")
    if os.path.exists(target) and read_stamp(os.fspath(folder)) is None:
        keep_or_replace(target, force=force, what="a manifest not written by `audiogen data`")


def write_folder_manifest(folder, force: bool = False) -> str:
    """Index every usable audio file below ``folder`` into ``folder/manifest.csv`` with durations.

    Each file is checked as the training pipeline will load it (:func:`audiogen_tf.audio.check`: readable,
    whole, finite, 10 ms to 10 min long); the others are listed as skipped. An existing ``manifest.csv`` (perhaps
    hand-written, with ``text`` or ``speaker`` columns) is replaced only with ``force``, and kept as
    ``manifest.csv.bak``.

    Raises:
        ConfigError: ``folder`` is missing or not a folder, or holds no usable audio file.
        OverwriteError: ``manifest.csv`` exists and ``force`` is false.
    """
    from tqdm import tqdm

    from audiogen_tf import audio, manifest
    from audiogen_tf.atomic import keep_or_replace
    from audiogen_tf.errors import AudioFileError, ConfigError

    folder = os.fspath(folder)
    if not os.path.exists(folder):
        raise ConfigError(f"{folder}: no such folder (give the folder of audio files to index)")
    if not os.path.isdir(folder):
        raise ConfigError(f"{folder}: is a file, not a folder (give the folder of audio files to index)")
    target = os.path.join(folder, "manifest.csv")
    if os.path.exists(target) and not force:
        keep_or_replace(target, force=False, what="a manifest")
    found = manifest.entries_from_glob(folder)
    if not found:
        raise ConfigError(f"{folder}: no audio files found (looked for {', '.join(manifest.AUDIO_EXTENSIONS)})")
    entries, skipped = [], []
    for entry in tqdm(found, desc="indexing", unit="file"):
        try:
            _, _, seconds = audio.check(entry["path"])
            entries.append({**entry, "duration": round(seconds, 4)})
        except AudioFileError as err:
            skipped.append(err)
    print(f"{len(entries)} files indexed, {len(skipped)} skipped")
    for err in skipped:
        print(f"  skipped {err}")
    if not entries:
        raise ConfigError(f"{folder}: none of the {len(found)} audio files is usable; no manifest written")
    backup = keep_or_replace(target, force=True, what="a manifest") if os.path.exists(target) else None
    if backup:
        print(f"kept the previous manifest as {backup}")
    return manifest.write_manifest(entries, target)

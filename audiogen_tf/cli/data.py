"""``audiogen data KIND DIR``: build the built-in datasets or index a user's folder."""

from __future__ import annotations

import os


def build_data(args) -> str:
    """Dispatch ``audiogen data`` to the dataset builders; returns the manifest written."""
    if args.kind == "notes":
        from audiogen_tf.datasets.notes import make_notes

        path = make_notes(args.directory, sample_rate=args.sample_rate or 16000, seed=args.seed)
    elif args.kind == "sfx":
        from audiogen_tf.datasets.sfx import make_sfx

        path = make_sfx(args.directory, sample_rate=args.sample_rate or 16000, seed=args.seed)
    elif args.kind == "speech":
        from audiogen_tf.datasets.speech import build_speech_corpus

        path = build_speech_corpus(
            args.directory, sample_rate=args.sample_rate or 22050, engine=args.engine, limit=args.limit
        )
    elif args.kind == "fluidsynth":
        from audiogen_tf.datasets.fluidsynth_notes import build_gm_notes

        path = build_gm_notes(args.directory, sample_rate=args.sample_rate or 16000)
    else:  # manifest of a user's folder
        path = write_folder_manifest(args.directory)
    print(f"wrote {path}")
    return path


def write_folder_manifest(folder) -> str:
    """Index every audio file below ``folder`` into ``folder/manifest.csv`` with durations; report unreadable files."""
    from tqdm import tqdm

    from audiogen_tf import audio, manifest
    from audiogen_tf.errors import AudioFileError

    entries, skipped = [], []
    for entry in tqdm(manifest.entries_from_glob(folder), desc="indexing", unit="file"):
        try:
            _, _, seconds = audio.info(entry["path"])
            entries.append({**entry, "duration": round(seconds, 4)})
        except AudioFileError as err:
            skipped.append(err)
    path = manifest.write_manifest(entries, os.path.join(folder, "manifest.csv"))
    print(f"{len(entries)} files indexed, {len(skipped)} skipped")
    for err in skipped:
        print(f"  skipped {err}")
    return path

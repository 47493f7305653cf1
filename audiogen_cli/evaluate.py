"""``audiogen evaluate``: paired metrics and encoder judgements of a folder of generated audio."""

from __future__ import annotations

import os


def _labels_from_manifest(path, label_key, suffix="", vocabulary=None) -> dict:
    """``{file stem without suffix: class id}``; string labels are numbered in sorted order unless ``vocabulary`` is given."""
    from audiogen_tf import manifest
    from audiogen_tf.errors import ConfigError

    entries = manifest.read_manifest(path)
    def stem(path):
        name = os.path.splitext(os.path.basename(path))[0]
        return name[: -len(suffix)] if suffix and name.endswith(suffix) else name

    raw = {stem(e["path"]): e.get(label_key) for e in entries}
    if any(v is None for v in raw.values()):
        raise ConfigError(f"{path}: some entries have no '{label_key}'")
    if all(str(v).lstrip("-").isdigit() for v in raw.values()):
        return {k: int(v) for k, v in raw.items()}
    vocabulary = vocabulary or sorted(set(map(str, raw.values())))
    return {k: vocabulary.index(str(v)) for k, v in raw.items()}


def evaluate_command(args) -> tuple[str, str]:
    """Run the evaluation the arguments describe and write ``.json`` and ``.md``; prints the markdown."""
    from audiogen_tf.atomic import keep_or_replace
    from audiogen_tf.evaluation import evaluate_folder, report_markdown, write_report

    prefix = args.out or os.path.join(args.generated, "evaluation")
    force = getattr(args, "force", False)
    for ext in (".json", ".md"):
        if not force:
            keep_or_replace(prefix + ext, force=False)  # refuse before the (slow) evaluation
    encoder = None
    if args.encoder:
        from audiogen_cli.models import import_zoo
        from audiogen_tf.model_files import load_keras_model

        import_zoo()  # registers the zoo classes so the .keras file loads with safe_mode
        encoder = load_keras_model(args.encoder)
    recognizer = None
    if getattr(args, "recognizer", None):
        from audiogen_cli.export import resolve_model

        recognizer = resolve_model(args.recognizer)  # a .keras file or a preset (the shipped ctc_recognizer_en)
        if not hasattr(recognizer, "transcribe"):
            from audiogen_tf.errors import ConfigError

            raise ConfigError(f"{args.recognizer}: a {type(recognizer).__name__} is not a recognizer (no transcribe)")
    labels = _labels_from_manifest(args.labels, args.label_key, args.suffix) if args.labels else None
    report = evaluate_folder(
        args.generated, args.reference, sample_rate=args.sample_rate, suffix=args.suffix, encoder=encoder,
        labels=labels, with_f0=not args.no_f0, texts=getattr(args, "text_manifest", None),
        with_dnsmos=not getattr(args, "no_dnsmos", False), f0_range=tuple(getattr(args, "f0_range", (50.0, 1000.0))),
        recognizer=recognizer,
    )
    for ext in (".json", ".md"):
        keep_or_replace(prefix + ext, force=force)
    paths = write_report(report, prefix)
    print(report_markdown(report))
    print("wrote " + " and ".join(paths))
    return paths

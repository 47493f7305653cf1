"""``audiogen export``: a ``.keras`` file or a zoo preset -> SavedModel or builtin-ops ``.tflite``.

Also the catalog of exportable presets (every generator, encoder and autoregressive step of the zoo;
discriminators are training-only and are not exported) used by the tests and ``benchmarks/export_table.py``.

Example:
    audiogen export hifigan_tiny --format tflite --quantization float16 --endpoint chunk --out hifigan.tflite
    audiogen export out/vocoder.keras --format saved_model --out out/vocoder_savedmodel
"""

from __future__ import annotations

import os

EXAMPLE = (
    "audiogen export hifigan_tiny --format tflite --quantization float16 --endpoint chunk --out hifigan.tflite"
)

def is_training_only(class_name: str) -> bool:
    """Discriminators exist to train generators; they are not exported (each family names its own)."""
    from zoo.families import training_only_classes

    return class_name in training_only_classes()


def exportable_presets(tiny_only: bool = False) -> list[tuple[str, str]]:
    """``(model class name, preset)`` of every exportable zoo preset, tiny ones only when ``tiny_only``.

    Example:
        >>> ("HiFiGANGenerator", "hifigan_tiny") in exportable_presets(tiny_only=True)   # doctest: +SKIP
        True
    """
    from audiogen_tf import registry
    from audiogen_cli.models import import_zoo

    import_zoo()
    rows = []
    for cls_name, presets in registry.list_presets().items():
        if is_training_only(cls_name):
            continue
        rows += [(cls_name, p) for p in presets if not tiny_only or "tiny" in p]
    return rows


def build_preset(class_name: str, preset: str, **overrides):
    """Build ``class_name.from_preset(preset)`` with its family's ``export_overrides`` (e.g. a builtin-ops mel front
    end) applied."""
    from audiogen_tf import registry
    from audiogen_cli.models import import_zoo
    from zoo.families import family_of

    import_zoo()
    cls = registry.get_model_class(class_name)
    family = family_of(cls)
    kwargs = dict(family.export_overrides) if family is not None and cls is family.generator else {}
    kwargs.update(overrides)
    return cls.from_preset(preset, **kwargs)


def resolve_model(spec: str):
    """A model from a ``.keras`` path, a preset name (``hifigan_tiny``) or ``Class:preset`` (``MelGANGenerator:melgan``).

    A preset name shared by a generator and its discriminator resolves to the generator.

    Raises:
        ConfigError: unknown preset (the message lists the exportable ones) or an ambiguous name.
    """
    from audiogen_tf import registry
    from audiogen_cli.models import import_zoo
    from audiogen_tf.errors import ConfigError

    import_zoo()
    if spec.endswith(".keras") or os.path.sep in spec and os.path.exists(spec):
        from audiogen_tf.model_files import load_keras_model

        return load_keras_model(spec)  # a ModelFileError names the file and what is wrong with it
    if ":" in spec:
        cls_name, preset = spec.split(":", 1)
        return build_preset(cls_name, preset)
    matches = [c for c, presets in registry.list_presets().items() if spec in presets and not is_training_only(c)]
    if not matches:
        known = ", ".join(p for _, p in exportable_presets())
        raise ConfigError(f"'{spec}' is neither a .keras file nor an exportable preset. Presets: {known}")
    if len(matches) > 1:
        raise ConfigError(f"preset '{spec}' exists for {matches}; write it as Class:preset, e.g. {matches[0]}:{spec}")
    return build_preset(matches[0], spec)


def export_command(args) -> str:
    """Run ``audiogen export`` from parsed arguments; prints the endpoints, file size and ops, returns the path."""
    from audiogen_tf.errors import ConfigError
    from tflite_export.endpoints import get_endpoints
    from tflite_export.export import ExportError, export_saved_model, export_tflite, list_tflite_ops

    from audiogen_tf.atomic import keep_or_replace

    force = getattr(args, "force", False)
    if not force:
        keep_or_replace(args.out, force=False)  # refuse before any work
    model = resolve_model(args.model)
    if getattr(args, "refine", False):
        from tflite_export.endpoints import EndpointList
        from zoo.voices import check_refinable

        check_refinable(model)
        model = EndpointList(model.export_endpoints(refine=True), getattr(model, "name", "vocoder"))
    names = [e.name for e in get_endpoints(model)]
    keep_or_replace(args.out, force=force)
    endpoint = args.endpoint
    if endpoint is not None and endpoint not in names:
        raise ConfigError(f"{args.model}: no endpoint '{endpoint}'; endpoints: {names}")
    try:
        if args.format == "saved_model":
            if args.quantization != "none":
                raise ConfigError("--quantization applies to --format tflite only")
            path = export_saved_model(model, args.out, endpoints=endpoint)
            print(f"SavedModel {path}: signatures {[endpoint] if endpoint else names}")
            return path
        calib = None
        if args.quantization == "int8":
            from tflite_export.quantization import endpoint_by_name, is_vocoder, vocoder_representative_dataset
            from tflite_export.quantization import _sampled_representative_dataset

            if endpoint is None and len(names) > 1:
                raise ConfigError(f"--quantization int8 calibrates one endpoint: pass --endpoint (one of {names})")
            ep = endpoint_by_name(model, endpoint)
            calib = (vocoder_representative_dataset(model, ep) if is_vocoder(model) and ep.name in ("chunk", "synthesize")
                     else _sampled_representative_dataset(model, ep))
        path = export_tflite(model, args.out, quantization=args.quantization, representative_dataset=calib,
                             endpoint=endpoint)
    except ExportError as e:
        raise ConfigError(str(e)) from e
    ops = sorted(list_tflite_ops(path))
    print(f"{path}: {os.path.getsize(path)} bytes, quantization {args.quantization}, "
          f"signatures {[endpoint] if endpoint else names}\nops: {', '.join(ops)}")
    return path


def add_parser(sub):
    """Register the ``export`` subcommand on an ``argparse`` subparsers object."""
    import argparse

    p = sub.add_parser(
        "export", help="export a .keras model or a preset to TFLite / SavedModel",
        epilog="Examples:\n  " + EXAMPLE + "\n  audiogen export wavenet_tiny --endpoint step --out wavenet_step.tflite"
               "\n  audiogen export out/vocoder.keras --format saved_model --out out/vocoder_savedmodel",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", metavar="MODEL_OR_CHECKPOINT", help="a .keras file, a preset name or Class:preset")
    p.add_argument("--format", choices=["tflite", "saved_model"], default="tflite")
    p.add_argument("--quantization", choices=["none", "float16", "dynamic", "int8"], default="none",
                   help="int8 calibrates on the built-in notes (vocoders) or sampled inputs; needs --endpoint")
    p.add_argument("--endpoint", default=None, help="export only this endpoint (default: all)")
    p.add_argument("--refine", action="store_true",
                   help="iSTFT vocoders: also the 'synthesize_refined' signature (mel, iterations -> audio with the "
                        "predicted phase made consistent by that many fast Griffin-Lim steps)")
    p.add_argument("--out", required=True, help="output .tflite file or SavedModel folder")
    p.add_argument("--force", action="store_true", help="replace an existing --out (the old one is kept as OUT.bak)")
    return p

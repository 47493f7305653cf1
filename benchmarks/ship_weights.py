"""Turn a trained ``.keras`` model into shipped preset weights: a float16 ``.npz`` beside its family, a model card.

Compares the trained model's config with ``--base-preset`` (keys that differ, such as Tacotron 2's phoneme front
end, go into the printed preset entry and the card), writes ``zoo/<family>/<name>.npz``
(:func:`audiogen_tf.pretrained.save_weights`), reloads it into a fresh model of the trained config with its sha256
checked, measures what float16 storage changes in the output (max |diff| on a random input of the model's input
structure), and writes ``zoo/<family>/<name>.md``: the command that trained it, data, steps, minutes, held-out
metrics (the first table and verdict of the benchmark page you pass), parameter count, sha256 and size. It prints
the preset entry to add to the family's ``*_presets.py``.

Usage:
    .venv/bin/python benchmarks/ship_weights.py runs/istft_wp/istft_vocoder_small.keras --family istft_vocoder \\
        --base-preset istft_vocoder_small --name istft_vocoder_slt \\
        --metrics benchmarks/results/istft_vocoder_quality.md \\
        --train-command "python benchmarks/istft_vocoder_speech.py --minutes 150 --losses weighted_phase" \\
        --train-state runs/istft_wp/train_state.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _strip(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in ("name", "trainable", "dtype")}


def _probe(model, rng):
    """A random input of ``model``'s input structure: log-mel-like floats, small positive ints for ids / lengths."""
    import keras

    def make(spec):
        shape = [1 if i == 0 else (200 if d is None else d) for i, d in enumerate(spec.shape)]
        if "int" in str(spec.dtype):
            return rng.integers(1, 10, size=shape).astype(str(spec.dtype))
        return rng.normal(-4.0, 2.0, size=shape).astype(np.float32)

    return keras.tree.map_structure(make, model.input)


def _flat_output(outputs) -> np.ndarray:
    """Every output array of a model call (tensor, list or dict), flattened into one float vector."""
    import keras

    return np.concatenate([np.asarray(t, np.float32).reshape(-1) for t in keras.tree.flatten(outputs)])


def held_out_section(page: str) -> str:
    """The card's metrics from a benchmark page: its command line, first table and verdict (a line in bold).

    A file that is not a page (no ``# `` title) is taken whole.
    """
    lines = open(page, encoding="utf-8").read().strip().splitlines()
    if not lines or not lines[0].startswith("# "):
        return "\n".join(lines)
    start = next((i for i, line in enumerate(lines) if line.startswith("|")), None)
    if start is None:
        return "\n".join(lines)
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    command = next((line for line in lines if line.startswith("Command:") or line.startswith("`python")), "")
    verdict = [line for line in lines[end:] if line.startswith("**")][:1]
    rel = os.path.relpath(os.path.abspath(page), ROOT)
    return "\n".join([f"From `{rel}` (the whole page: per-utterance rows, other voices, notes).",
                       *([command] if command else []), "", *lines[start:end], "", *verdict])


def _steps_minutes(state: dict) -> str:
    """Steps and minutes from a run's state file: the vocoder scripts' step / train_seconds or steps / minutes."""
    if "train_seconds" in state:
        from bench_utils import continued_steps

        init = state.get("init_from") or {}
        if "weights" in init and "step" in state:  # continued from shipped weights: their steps count too
            return (f"- Steps: {continued_steps(state)} ({init['step']} of `{init['weights']}`, then "
                    f"{state['step']}), minutes of training: {state['train_seconds'] / 60:.1f}")
        return f"- Steps: {state.get('step', '?')}, minutes of training: {state['train_seconds'] / 60:.1f}"
    if "minutes" in state:  # a benchmark's ledger (bench_utils.train_within_budget) says "step"
        return f"- Steps: {state.get('steps', state.get('step', '?'))}, minutes of training: {state['minutes']:.1f}"
    return "- Steps / minutes: (not given)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="trained .keras file")
    ap.add_argument("--family", required=True, help="zoo folder, e.g. istft_vocoder")
    ap.add_argument("--base-preset", required=True, help="the preset whose architecture the model has")
    ap.add_argument("--name", required=True, help="name of the shipped preset and of its files")
    ap.add_argument("--metrics", default=None,
                    help="benchmark page with the held-out metrics (its first table and verdict go on the card)")
    ap.add_argument("--note", default="", help="a line for the card on what the weights are not good for")
    ap.add_argument("--folder", default=None, help="where to write (default zoo/FAMILY: shipped with the package)")
    ap.add_argument("--train-command", default="", help="the command that trained it (for the card)")
    ap.add_argument("--train-state", default=None, help="JSON with step / train_seconds of the run")
    ap.add_argument("--data", default="the festival corpus (`audiogen data speech`: voice slt, 22050 Hz, "
                    "374 sentences; trained on its train split)")
    args = ap.parse_args(argv)

    import importlib

    import keras

    from audiogen_tf.pretrained import load_weights, save_weights, sha256_of
    from audiogen_tf.registry import get_preset

    importlib.import_module(f"zoo.{args.family}")  # registers the family's classes for loading
    model = keras.saving.load_model(args.model)
    cls = type(model)
    base = get_preset(cls, args.base_preset)
    base.pop("weights", None)
    trained = _strip(model.get_config())
    reference = _strip(cls(**base).get_config())
    changed = sorted(k for k in trained if reference.get(k) != trained[k])
    fresh = cls.from_config(trained)  # the trained architecture: the base preset plus the keys in ``changed``
    folder = args.folder or os.path.join(ROOT, "zoo", args.family)
    npz = os.path.join(folder, f"{args.name}.npz")
    digest = save_weights(model, npz)
    try:
        load_weights(fresh, npz, digest)
    except Exception:
        os.remove(npz)
        raise
    probe = _probe(model, np.random.default_rng(0))
    y32 = _flat_output(model(probe, training=False))
    y16 = _flat_output(fresh(probe, training=False))
    state = json.load(open(args.train_state, encoding="utf-8")) if args.train_state else {}
    metrics = held_out_section(args.metrics) if args.metrics else "(not given)"
    card = "\n".join([
        f"# `{args.name}`: {cls.__name__}, architecture `{args.base_preset}`, trained weights",
        "",
        f"- File: `{os.path.basename(npz)}`, float16, {os.path.getsize(npz) / 1e6:.2f} MB, sha256 `{digest}`",
        f"- Parameters: {model.count_params():,}",
        f"- Data: {args.data}",
        f"- Training: `{args.train_command}`" if args.train_command else "- Training: (command not given)",
        _steps_minutes(state),
        f"- Architecture: preset `{args.base_preset}`" + (f" with {', '.join(changed)} as trained" if changed else ""),
        f"- Stored in float16: max |output difference| to the float32 model on a random input "
        f"{np.max(np.abs(y32 - y16)):.2e} (outputs up to {np.max(np.abs(y32)):.2f})",
        f"- Reproduce from the built-in data: `make reproduce-{args.name}` (the Makefile runs the data build, "
        f"the training, the evaluation page and `benchmarks/ship_weights.py`; float16 files are byte-identical "
        f"for identical weights, but training on another machine takes other steps in its minutes)",
        *([f"- Limits: {args.note}"] if args.note else []),
        "",
        "## Held-out metrics",
        "",
        metrics,
        "",
    ])
    card_path = os.path.join(folder, f"{args.name}.md")
    from audiogen_tf.atomic import atomic_write_text

    atomic_write_text(card_path, card)
    entry = {**{k: v for k, v in get_preset(cls, args.base_preset).items() if k != "weights"},
             **{k: trained[k] for k in changed}, "weights": {"file": os.path.basename(npz), "sha256": sha256_of(npz)}}
    print(f"wrote {npz} and {card_path}")
    print(f'add to zoo/{args.family}/{args.family}_presets.py:\n    "{args.name}": {entry!r},')
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Import a PyTorch checkpoint into a zoo model: the architectures every family offers, one entry point.

Each family that can import declares ``TORCH_IMPORTERS = {arch: (function, description)}`` in its
``zoo/<family>/<family>_torch_import.py``; :func:`torch_import_archs` collects them, so adding an architecture
touches only its family. Checkpoints are read by :func:`audiogen_tf.torch_checkpoint.load_torch_checkpoint`,
which runs no code from the file (``torch.load(weights_only=True)`` semantics, no torch needed).

Example (not run here: it needs a checkpoint):
    model, info = import_checkpoint("g_02500000", arch="hifigan_v1")   # config.json beside it is read if present
    model.save("hifigan_v1.keras")
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import time

from audiogen_tf.torch_checkpoint import load_torch_checkpoint


def torch_import_archs() -> dict:
    """``{arch: (function, description)}`` over every zoo family with a ``<family>_torch_import`` module."""
    import zoo

    found = {}
    for info in sorted(pkgutil.iter_modules(zoo.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        name = f"zoo.{info.name}.{info.name}_torch_import"
        if importlib.util.find_spec(name) is None:
            continue
        found.update(importlib.import_module(name).TORCH_IMPORTERS)
    return found


def _read_config(handle, path):
    """JSON, or YAML for ``.yaml`` / ``.yml`` (safe loader); YAML errors become ValueError."""
    if not path.endswith((".yaml", ".yml")):
        return json.load(handle)
    import yaml

    try:
        return yaml.safe_load(handle)
    except yaml.YAMLError as err:
        raise ValueError(str(err)) from err


def import_checkpoint(path, arch, config=None, keep_weight_norm=None, checkpoint=None):
    """Read a PyTorch checkpoint and build the zoo model of ``arch`` holding its weights.

    Args:
        path: the checkpoint file (``torch.save`` zip or legacy format).
        arch: one of :func:`torch_import_archs` (e.g. "hifigan_v1", "hifigan", "melgan").
        config: the training config as a dict, or a ``.json`` path; default: ``config.json`` beside the checkpoint
            if there is one (jik876/hifi-gan's layout).
        keep_weight_norm: keep weight-normalized layers; default False for generators (folded for inference),
            True for discriminators (they are imported to fine-tune).
        checkpoint: the file already read by ``load_torch_checkpoint(path)`` (the CLI reads it, within its
            bounds, before loading TensorFlow); default: read it here.

    Returns:
        ``(model, info)``; info holds ``seconds`` (read + build + copy) and ``config_path``.

    Raises:
        ValueError: unknown arch (the message lists them); ImportMismatchError (a ValueError): the keys / shapes
        that did not match; UnsafeCheckpointError: the pickle asks for code; CheckpointFormatError.
    """
    archs = torch_import_archs()
    if arch not in archs:
        raise ValueError(f"unknown --arch {arch!r}; known: {', '.join(archs)}")
    start = time.perf_counter()
    config_path = None
    if config is None:
        for name in ("config.json", "config.yaml"):  # jik876/hifi-gan's and Vocos' layouts
            beside = os.path.join(os.path.dirname(os.path.abspath(path)), name)
            if os.path.isfile(beside):
                config = beside
                break
    if isinstance(config, (str, os.PathLike)):
        config_path = os.fspath(config)
        try:
            with open(config_path) as f:
                config = _read_config(f, config_path)
        except (OSError, ValueError) as e:
            raise ValueError(f"{config_path}: cannot read the config: {e}") from e
    if checkpoint is None:
        checkpoint = load_torch_checkpoint(path)
    function, _ = archs[arch]
    if keep_weight_norm is None:
        keep_weight_norm = "discriminator" in arch
    model = function(checkpoint, arch, config, bool(keep_weight_norm), os.fspath(path))
    return model, {"seconds": time.perf_counter() - start, "config_path": config_path}

"""Batches of fixed-length clips shared by the latent families: mel frames or waveforms."""

from __future__ import annotations


def clip_dataset(recipe, source, batch_size, vocabulary, kw, mel_input: bool, frames: int | None = None):
    """``{"mel"[, "label"]}`` (``frames`` frames of the recipe's mel) or ``{"audio"[, "label"]}`` batches."""
    from audiogen_tf.data import segment_dataset

    cfg = recipe.mel_config()
    label_key = getattr(recipe, "label_key", None)
    ds = segment_dataset(source, recipe.segment_length, batch_size, mel_config=cfg if mel_input else None,
                         sample_rate=None if mel_input else recipe.sample_rate, label_key=label_key,
                         label_vocabulary=vocabulary, **kw)

    def pick(e):
        if mel_input:
            out = {"mel": e["mel"][:, :frames]}
        else:
            out = {"audio": e["audio"][..., None] if len(e["audio"].shape) == 2 else e["audio"]}
        if label_key:
            out["label"] = e["label"]
        return out

    return ds.map(pick)

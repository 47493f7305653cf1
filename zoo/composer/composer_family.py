"""The composer family, declared once for :mod:`zoo.families`: events in, events out (no audio: ``synthesis``
None)."""

from zoo.families import ZooFamily
from zoo.composer import composer_presets  # noqa: F401  (registers the presets)
from zoo.composer.composer_model import EventComposer, composer_dataset

FAMILIES = [ZooFamily("composer", EventComposer, synthesis=None, dataset=composer_dataset)]

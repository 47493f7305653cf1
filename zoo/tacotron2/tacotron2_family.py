"""The tacotron2 folder's families (Tacotron 2), declared once for :mod:`zoo.families`."""

from zoo.families import ZooFamily
from zoo.tacotron2 import tacotron2_presets  # noqa: F401  (registers the presets)
from zoo.tacotron2.tacotron2_model import Tacotron2, tacotron2_dataset

FAMILIES = [ZooFamily("tacotron2", Tacotron2, synthesis="tacotron2", dataset=tacotron2_dataset, features="mel_config")]

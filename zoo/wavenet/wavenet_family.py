"""The wavenet folder's families (WaveNet), declared once for :mod:`zoo.families`."""

from zoo.families import ZooFamily
from zoo.wavenet import wavenet_presets  # noqa: F401  (registers the presets)
from zoo.wavenet.wavenet_model import WaveNet, wavenet_dataset

FAMILIES = [ZooFamily("wavenet", WaveNet, synthesis="autoregressive", dataset=wavenet_dataset)]

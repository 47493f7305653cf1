"""The encoders folder's families (the CNN encoders), declared once for :mod:`zoo.families`."""

from zoo.families import ZooFamily
from zoo.encoders import encoders_presets  # noqa: F401  (registers the presets)
from zoo.encoders.encoders_mel_cnn import MelCNNEncoder
from zoo.encoders.encoders_waveform_cnn import WaveformCNNEncoder

FAMILIES = [ZooFamily("encoder", MelCNNEncoder, alternatives=(WaveformCNNEncoder,),
                      export_overrides={"tflite_compatible": True})]  # the mel front end of builtin ops

"""The encoders folder's families (the CNN encoders), declared once for :mod:`zoo.families`."""

from zoo.families import ZooFamily
from zoo.encoders import encoder_presets  # noqa: F401  (registers the presets)
from zoo.encoders.mel_cnn_encoder import MelCNNEncoder
from zoo.encoders.waveform_cnn_encoder import WaveformCNNEncoder

FAMILIES = [ZooFamily("encoder", MelCNNEncoder, alternatives=(WaveformCNNEncoder,),
                      export_overrides={"tflite_compatible": True})]  # the mel front end of builtin ops

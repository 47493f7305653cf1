"""The ctc_recognizer folder's families (the CTC recognizer), declared once for :mod:`zoo.families`."""

from zoo.families import ZooFamily
from zoo.ctc_recognizer import ctc_recognizer_presets  # noqa: F401  (registers the presets)
from zoo.ctc_recognizer.ctc_recognizer_model import CTCRecognizer, ctc_recognizer_dataset

FAMILIES = [ZooFamily("ctc_recognizer", CTCRecognizer, dataset=ctc_recognizer_dataset, features="mel_config")]

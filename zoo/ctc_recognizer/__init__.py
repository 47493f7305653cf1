"""CTC speech recognizer (strided CNN + BiLSTM + CTC): the zoo's own character error rate judge."""

from zoo.ctc_recognizer.ctc_recognizer_model import CTCRecognizer, ctc_recognizer_dataset  # noqa: F401
from zoo.ctc_recognizer import ctc_recognizer_presets  # noqa: F401  (registers the presets)

"""The ctc_tts folder's families (the CTC-aligned TTS), declared once for :mod:`zoo.families`."""

from zoo.families import ZooFamily
from zoo.ctc_tts import ctc_tts_presets  # noqa: F401  (registers the presets)
from zoo.ctc_tts.ctc_tts_model import CTCTTS, ctc_tts_dataset

FAMILIES = [ZooFamily("ctc_tts", CTCTTS, synthesis="ctc_tts", dataset=ctc_tts_dataset, features="mel_config")]

"""Non-autoregressive LSTM TTS with a CTC (forward-sum) alignment: learned durations, one-call TFLite synthesis."""

from zoo.ctc_tts.ctc_tts_model import CTCTTS, ctc_tts_dataset, durations_to_alignment  # noqa: F401
from zoo.ctc_tts import ctc_tts_presets  # noqa: F401  (registers the presets)

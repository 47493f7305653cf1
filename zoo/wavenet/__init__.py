"""WaveNet (van den Oord et al. 2016): model, mixture-of-logistics loss, fast (queue) and naive generation, presets."""

from zoo.wavenet.wavenet_model import (  # noqa: F401
    DiscretizedLogisticMixtureLoss,
    WaveNet,
    teacher_forcing_pair,
    wavenet_dataset,
)
from zoo.wavenet import wavenet_presets  # noqa: F401  (registers the presets)
from zoo.wavenet import wavenet_generation  # noqa: F401

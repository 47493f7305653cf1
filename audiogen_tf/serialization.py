"""One decorator that registers our layers and models for `.keras` saving with ``safe_mode=True``."""

import keras


def register(cls):
    """Register ``cls`` under the ``audiogen_tf`` package name so saved models load without custom_objects."""
    return keras.saving.register_keras_serializable(package="audiogen_tf")(cls)

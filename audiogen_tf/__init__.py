"""audiogen-tf core: audio I/O, in-graph features, tf.data pipelines, layers, losses, metrics, datasets.

This package knows no model: ``zoo`` builds on it, ``training`` and ``tflite_export`` build on both.
Submodules are imported on demand so that ``import audiogen_tf`` stays cheap.
"""

__version__ = "0.1.0"

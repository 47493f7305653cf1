"""Installs audiogen-tf: the packages audiogen_tf, zoo, training, tflite_export and audiogen_cli (the `audiogen` command)."""

from setuptools import find_packages, setup

setup(
    name="audiogen-tf",
    version="0.1.0",
    description="A TensorFlow / Keras 3 model zoo for audio generation that trains with model.fit and exports to TFLite.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["audiogen_tf*", "zoo*", "training*", "tflite_export*", "audiogen_cli*"]),
    # zoo: shipped float16 weights and their model cards, beside their family (audiogen_tf.pretrained)
    package_data={"audiogen_tf": ["datasets/*.txt", "datasets/voice_texts/*.txt"], "training": ["configs/*.yaml"], "zoo": ["*/*.npz", "*/*.md"]},
    install_requires=[
        "tensorflow>=2.18",
        "numpy",
        "scipy",
        "librosa>=0.10",
        "soundfile>=0.12",
        "ai-edge-litert",
        "tqdm",
        "matplotlib",
        "pyyaml",
        "tensorboard",
        # libespeak-ng in a wheel: the phoneme front end of the shipped voice, with no Debian package
        "espeakng-loader",
    ],
    extras_require={
        "dev": ["pytest>=7", "pytest-timeout", "pytest-xdist"],
        # speechmos ships the DNSMOS ONNX models but declares no dependencies: it imports onnxruntime and requests.
        "eval": ["pesq", "pystoi", "pocketsphinx", "speechmos", "onnxruntime", "requests"],
        # the G.722 decoder of the Asterisk voice prompts (`audiogen data voices`)
        "voices": ["g722"],
        # tensorflow-io's last release (0.37.1) only loads with TF 2.17; it is an optional decoder.
        "tfio": ["tensorflow-io"],
        # the score corpus (Bach chorales, Essen folksongs) ships inside the music21 wheel: `audiogen data scores`
        "music": ["music21"],
    },
    entry_points={"console_scripts": ["audiogen=audiogen_cli:main"]},
)

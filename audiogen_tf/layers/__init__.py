"""Reusable Keras layers: spectral features, CNN encoder blocks, recurrent blocks, attention."""

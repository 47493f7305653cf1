"""tflite_export package of audiogen-tf."""

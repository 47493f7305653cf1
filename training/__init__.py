"""training package of audiogen-tf."""

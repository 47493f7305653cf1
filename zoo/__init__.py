"""zoo package of audiogen-tf."""

"""redline.load."""

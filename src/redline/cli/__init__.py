"""redline.cli."""

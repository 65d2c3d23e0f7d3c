"""redline.metrics."""

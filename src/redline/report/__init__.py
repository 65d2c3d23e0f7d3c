"""redline.report."""

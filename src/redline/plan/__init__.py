"""redline.plan."""

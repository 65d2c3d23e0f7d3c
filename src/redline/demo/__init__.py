"""redline.demo."""

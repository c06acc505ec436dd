"""handsdk: hand detection, 21 keypoints and gestures on small devices."""
__version__ = "0.1.0"

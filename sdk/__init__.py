"""handsdk: hand detection, 21 hand keypoints and gesture recognition
(commands and fingerspelling) on small devices.

``import handsdk`` is light: numpy and a TFLite interpreter; OpenCV is loaded
only where frames are touched; TensorFlow is never needed at runtime.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .bundle import Bundle, BundleError, GestureSet, build_bundle, default_bundle_path, load_bundle
from .keypoints import HAND_CONNECTIONS, KEYPOINT_NAMES, keypoint_features
from .recognizer import GestureRecognizer, GestureRecognizerOptions, RunningMode
from .results import Category, Hand, RecognitionResult
from .events import GestureEvent, GestureEvents
from .sources import SourceError
from .spelling import Speller, SpellingOptions, SpellingState
from .stages import Detection, GestureClassifier, HandDetector, HandLandmarker, Landmarks

__all__ = [
    "__version__",
    "Bundle", "BundleError", "GestureSet", "build_bundle", "load_bundle", "default_bundle_path",
    "HAND_CONNECTIONS", "KEYPOINT_NAMES", "keypoint_features",
    "GestureRecognizer", "GestureRecognizerOptions", "RunningMode",
    "Category", "Hand", "RecognitionResult", "SourceError",
    "GestureEvent", "GestureEvents", "Speller", "SpellingOptions", "SpellingState",
    "Detection", "HandDetector", "HandLandmarker", "GestureClassifier", "Landmarks",
]

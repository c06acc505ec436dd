"""The model bundle: one self-describing file with the whole pipeline.

A bundle is an uncompressed zip (like MediaPipe's ``.task``) holding
``manifest.json`` and the ``.tflite`` models it names: a hand detector, a
landmarker and one or more gesture classifiers (gesture *sets*, e.g.
``commands`` and ``asl_letters``). Loading validates everything and never
executes code from the file: the manifest is JSON, the models are flatbuffers
run by the TFLite interpreter.

The package: :mod:`~handsdk.bundle.model` (the records and the format's
names, limits and thresholds), :mod:`~handsdk.bundle.schema` (the manifest's
checks), :mod:`~handsdk.bundle.read` (:func:`load_bundle`) and
:mod:`~handsdk.bundle.write` (:func:`build_bundle`, :func:`add_gesture_set`).
"""
from __future__ import annotations

from .model import (DEFAULT_THRESHOLDS, DTYPES, FORMAT, FORMAT_VERSION, MANIFEST, MAX_ENTRIES, MAX_FILE_BYTES,
                    MAX_MANIFEST_BYTES, MAX_TOTAL_BYTES, MODEL_SUFFIXES, QUANTIZATIONS, REQUIRED_THRESHOLDS, ROLES,
                    SUFFIX, THRESHOLD_DEFAULTS, Bundle, BundleError, ModelEntry, TensorSpec)
from .read import check_models, default_bundle_path, load_bundle, parse_manifest
from .schema import MANIFEST_SCHEMA, MAX_DEPTH, MAX_TEXT_DEPTH, check_thresholds, json_depth, validate_manifest
from .write import (GESTURE_SET_NAME, GestureSet, add_gesture_set, build_bundle, check_gesture_set_name,
                    describe_tflite, manifest_text, relative_path, sanitize_provenance, to_json)

__all__ = [
    "DEFAULT_THRESHOLDS", "DTYPES", "FORMAT", "FORMAT_VERSION", "MANIFEST", "MAX_ENTRIES", "MAX_FILE_BYTES",
    "MAX_MANIFEST_BYTES", "MAX_TOTAL_BYTES", "MODEL_SUFFIXES", "QUANTIZATIONS", "REQUIRED_THRESHOLDS", "ROLES",
    "SUFFIX", "THRESHOLD_DEFAULTS", "Bundle", "BundleError", "ModelEntry", "TensorSpec",
    "check_models", "default_bundle_path", "load_bundle", "parse_manifest",
    "MANIFEST_SCHEMA", "MAX_DEPTH", "MAX_TEXT_DEPTH", "check_thresholds", "json_depth", "validate_manifest",
    "GESTURE_SET_NAME", "GestureSet", "add_gesture_set", "build_bundle", "check_gesture_set_name",
    "describe_tflite", "manifest_text", "relative_path", "sanitize_provenance", "to_json",
]

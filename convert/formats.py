"""The one table of export formats (ultralytics-style): each row carries its
converter, and conversion (:func:`handsdk.convert.api.convert_model`), the
CLI's ``--format`` help and choices, ``--fallback`` and ``profile --compare``
all read this table. Add a row here (and its converter) and every tool knows it.

Importing this module imports nothing heavy: converters are named by dotted
path (``module:function``) and resolved only when a model is converted, so
the table never pulls in TensorFlow. Which format suits a device is said in
one place only: the device's profile (``handsdk.devices``, its ``format``).
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Callable

#: what to install (or where to run) when a format's requirement is missing
INSTALL = {
    "tensorflow": "TensorFlow comes with the train extra: pip install 'handsdk[train]'",
    "tensorflow_model_optimization": "tensorflow-model-optimization comes with the train extra: "
                                     "pip install 'handsdk[train]'",
    "tf2onnx": "tf2onnx comes with the onnx extra: pip install 'handsdk[onnx]'",
    "onnxruntime": "onnxruntime comes with the onnx extra: pip install 'handsdk[onnx]'",
    "tensorrt": "TensorRT engines are built on the Jetson (JetPack's TensorRT): convert --format onnx here, "
                "then on the device run python -m handsdk.convert.tensorrt <onnx bundle> -o <engine bundle> "
                "(see README)",
    "torch": "TensorRT engines run with JetPack's PyTorch (CUDA buffers), on the Jetson",
}


@dataclass(frozen=True)
class Format:
    name: str
    converter: str         # "module:function", resolved lazily: f(trained, fmt, calibration, *, qat_steps, progress)
    suffix: str            # suffix of each model file inside the bundle (.tflite / .onnx / .engine)
    mode: str              # the converter's quantisation mode (TFLite PTQ mode, ONNX fp32, TensorRT precision)
    quantization: str      # what the bundle's manifest records for a model in this format
    backend: str           # runtime that runs it: tflite | onnxruntime | tensorrt
    requires: tuple        # modules the converter and the parity check import (checked without importing)
    needs_calibration: bool = False
    description: str = ""

    def resolve(self) -> Callable:
        """The converter function (imports its module, which imports no
        TensorFlow at module level)."""
        mod, _, fn = self.converter.partition(":")
        return getattr(importlib.import_module(mod), fn)

    def missing(self) -> list[str]:
        """Requirements that are not installed here (found without importing them)."""
        out = []
        for m in self.requires:
            try:
                found = importlib.util.find_spec(m) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                out.append(m)
        return out

    def unavailable(self) -> str | None:
        """Why this format cannot be built here, or None."""
        miss = self.missing()
        if not miss:
            return None
        hints = "; ".join(dict.fromkeys(INSTALL.get(m, f"pip install {m}") for m in miss))
        return f"format {self.name} needs {', '.join(miss)}, not installed here: {hints}"


_TFLITE = "handsdk.convert.tflite:convert_trained"
_TF = ("tensorflow",)

FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("fp32", _TFLITE, ".tflite", "fp32", "fp32", "tflite", _TF,
           description="float32 TFLite; the reference, fastest on x86 with XNNPACK"),
    Format("fp16", _TFLITE, ".tflite", "fp16", "fp16", "tflite", _TF,
           description="fp16 weights, float32 compute: half the size (GPU delegates run it in fp16)"),
    Format("dynamic", _TFLITE, ".tflite", "dynamic", "dynamic", "tflite", _TF,
           description="dynamic-range quantisation: int8 weights, float activations, a quarter of the size, "
                       "no calibration"),
    Format("int8", _TFLITE, ".tflite", "int8", "int8", "tflite", _TF, needs_calibration=True,
           description="full-integer post-training quantisation with int8 I/O, calibrated on real and "
                       "synthetic crops"),
    Format("qat-int8", "handsdk.convert.qat:convert_trained", ".tflite", "int8", "qat-int8", "tflite",
           _TF + ("tensorflow_model_optimization",), needs_calibration=True,
           description="tfmot quantisation-aware fine-tuning (distilled from the float model), then "
                       "full-integer conversion; layers tfmot cannot quantise stay float and are listed"),
    Format("onnx", "handsdk.convert.onnx:convert_trained", ".onnx", "fp32", "fp32", "onnxruntime",
           _TF + ("tf2onnx", "onnxruntime"),
           description="ONNX (tf2onnx), checked with onnxruntime; the first half of the TensorRT path"),
    Format("tensorrt", "handsdk.convert.tensorrt:convert_trained", ".engine", "fp16", "fp16-trt", "tensorrt",
           _TF + ("tf2onnx", "tensorrt", "torch"),
           description="TensorRT fp16 engines, built ON the Jetson from the ONNX export"),
)}

TFLITE_FORMATS = tuple(k for k, f in FORMATS.items() if f.backend == "tflite")
#: formats ``--fallback`` accepts: a model that loses accuracy is re-converted
#: to one the TFLite runtime runs next to the others
FALLBACK_FORMATS = TFLITE_FORMATS


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; choose one of {', '.join(FORMATS)}") from None


def formats_help() -> str:
    """One line per row, for the CLI's help."""
    return "; ".join(f"{k}: {f.description}" for k, f in FORMATS.items())

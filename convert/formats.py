"""The one table of export formats. It drives conversion, the CLI's choices
and profiling (ultralytics-style): add a row here and every tool knows it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str            # file suffix of the artefact
    backend: str           # runtime that runs it
    precision: str         # weights / activations
    devices: tuple         # device profiles it suits
    needs_calibration: bool = False
    needs_training_data: bool = False
    runs_here: bool = True  # can be built and run on a plain x86 machine
    description: str = ""


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("fp32", ".handsdk", "tflite", "float32", ("x86_64",),
           description="float32 TFLite; the reference, fastest on x86 with XNNPACK"),
    Format("fp16", ".handsdk", "tflite", "float16 weights, float32 compute", ("x86_64", "android_arm64", "jetson_nano"),
           description="half the size, float compute (GPU delegates run it in fp16)"),
    Format("dynamic", ".handsdk", "tflite", "int8 weights, float activations", ("rpi4", "rpi5", "android_arm64"),
           description="dynamic-range quantisation: a quarter of the size, no calibration"),
    Format("int8", ".handsdk", "tflite", "int8 weights and activations, int8 I/O",
           ("rpi4", "rpi5", "coral_edgetpu", "android_arm64"), needs_calibration=True,
           description="full-integer post-training quantisation, calibrated on real and synthetic crops"),
    Format("qat-int8", ".handsdk", "tflite", "int8 after quantisation-aware fine-tuning",
           ("rpi4", "rpi5", "coral_edgetpu", "android_arm64"), needs_calibration=True, needs_training_data=True,
           description="tfmot quantisation-aware fine-tuning, then full-integer conversion"),
    Format("onnx", ".handsdk", "onnxruntime", "float32", ("x86_64", "jetson_nano", "jetson_orin_nano"),
           description="ONNX (tf2onnx), checked with onnxruntime; the first half of the TensorRT path"),
    Format("tensorrt", ".handsdk", "tensorrt", "fp16 / int8 engine", ("jetson_nano", "jetson_orin_nano"),
           runs_here=False,
           description="TensorRT engines, built ON the Jetson from the ONNX export (trtexec or the TensorRT API)"),
)}

TFLITE_FORMATS = tuple(k for k, f in FORMATS.items() if f.backend == "tflite")


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; choose one of {', '.join(FORMATS)}") from None

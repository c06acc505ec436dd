"""Import hygiene and packaging: one `handsdk` namespace over sdk/, train/,
convert/ and devices/; `import handsdk` stays light."""
from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_import_handsdk_is_light():
    code = ("import sys, handsdk\n"
            "from handsdk import GestureRecognizer, HandDetector, load_bundle\n"
            "heavy = [m for m in ('tensorflow', 'keras', 'tf_keras', 'typer', 'cv2', 'torch', 'jax', "
            "'onnxruntime', 'tensorrt') if m in sys.modules]\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"import handsdk pulled in: {out.stdout}"


#: the embeddable runtime: every module here must import without training code
#: (the tools live apart, in handsdk.tools: bench, profile, demo and the
#: spelling harness load handsdk.train lazily, inside the functions that need it)
RUNTIME_MODULES = (
    "handsdk", "handsdk.recognizer", "handsdk.stages", "handsdk.bundle", "handsdk.bundle.model",
    "handsdk.bundle.schema", "handsdk.bundle.read", "handsdk.bundle.write", "handsdk.backends",
    "handsdk.backends.common", "handsdk.backends.tflite", "handsdk.backends.onnx", "handsdk.backends.tensorrt",
    "handsdk.boxes", "handsdk.image", "handsdk.keypoints", "handsdk.decode",
    "handsdk.results", "handsdk.events", "handsdk.filters", "handsdk.sources", "handsdk.draw",
    "handsdk.capture", "handsdk.tracking", "handsdk.actions",
    "handsdk.session",
)


def test_runtime_never_imports_training_code():
    code = ("import importlib, sys\n"
            f"for name in {RUNTIME_MODULES!r}:\n"
            "    importlib.import_module(name)\n"
            "    bad = sorted(m for m in sys.modules if m == 'handsdk.train' or m.startswith('handsdk.train.')\n"
            "                 or m == 'tensorflow' or m.startswith('tensorflow.'))\n"
            "    if bad:\n"
            "        print(name, 'pulled in', ','.join(bad))\n"
            "        break\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", out.stdout


#: training modules that the tools use without TensorFlow (numpy and the
#: standard library; OpenCV only inside the functions that touch frames)
LIGHT_TRAINING_MODULES = ("handsdk.train.metrics", "handsdk.train.evaluation", "handsdk.train.data.catalog",
                          "handsdk.train.progress", "handsdk.train.mediapipe.env")


def test_light_training_modules_load_no_tensorflow():
    code = ("import importlib, sys\n"
            f"for name in {LIGHT_TRAINING_MODULES!r}:\n"
            "    importlib.import_module(name)\n"
            "print(','.join(m for m in ('tensorflow', 'keras', 'tf_keras', 'cv2', 'typer') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"pulled in: {out.stdout}"


def test_cli_import_does_not_pull_tensorflow():
    code = "import sys, handsdk.cli; print(any(m in sys.modules for m in ('tensorflow', 'tf_keras', 'keras')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def _declared_packages():
    text = (REPO / "pyproject.toml").read_text()
    block = re.search(r"packages = \[(.*?)\]", text, re.S).group(1)
    return set(re.findall(r'"([\w.]+)"', block))


def _folder_packages():
    mapping = {"sdk": "handsdk", "train": "handsdk.train", "convert": "handsdk.convert",
               "devices": "handsdk.devices"}
    found = set()
    for top, name in mapping.items():
        for init in (REPO / top).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / top)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    return found


def test_every_package_folder_is_declared():
    assert _folder_packages() == _declared_packages()


def test_every_module_resolves_to_its_folder():
    import importlib

    for pkg in sorted(_declared_packages()):
        mod = importlib.import_module(pkg)
        top = {"handsdk.train": "train", "handsdk.convert": "convert", "handsdk.devices": "devices"}
        want = next((v for k, v in top.items() if pkg == k or pkg.startswith(k + ".")), "sdk")
        assert Path(mod.__file__).resolve().is_relative_to(REPO / want), (pkg, mod.__file__)


@pytest.mark.slow
def test_wheel_has_one_namespace(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                          str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    (whl,) = tmp_path.glob("handsdk-*.whl")
    names = zipfile.ZipFile(whl).namelist()
    tops = {n.split("/")[0] for n in names}
    assert not {"train", "convert", "sdk", "devices", "tests"} & tops, tops
    assert "handsdk/__init__.py" in names and "handsdk/train/__init__.py" in names
    assert "handsdk/convert/__init__.py" in names and "handsdk/devices/rpi4.json" in names
    assert "handsdk/cli/run.py" in names and "handsdk/bundle/read.py" in names
    assert "handsdk/tools/bench.py" in names and "handsdk/train/mediapipe/hand_worker.py" in names
    assert "handsdk/train/mediapipe/face_worker.py" in names
    # the shipped recipes ship; the configs of runs in progress (train/configs/experiments) do not
    assert "handsdk/train/configs/detector_small.yaml" in names
    assert not [n for n in names if "/experiments/" in n], [n for n in names if "/experiments/" in n]

"""handsdk.train.data.catalog.data_root: one lookup of the real-data root
(argument > $HANDSDK_DATA > ../shared/data from the current directory > next
to the checkout), used by the tools, the training code and the tests."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from handsdk.train.data import catalog


@pytest.fixture
def layout(tmp_path, monkeypatch):
    """tmp/work/cwd (current directory), tmp/work/shared/data, tmp/repo/checkout
    with tmp/repo/shared/data; no $HANDSDK_DATA."""
    monkeypatch.delenv("HANDSDK_DATA", raising=False)
    cwd = tmp_path / "work" / "cwd"
    cwd_data = tmp_path / "work" / "shared" / "data"
    repo = tmp_path / "repo" / "checkout"
    repo_data = tmp_path / "repo" / "shared" / "data"
    for d in (cwd, cwd_data, repo, repo_data):
        d.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(catalog, "_repo_root", lambda: repo)
    return {"cwd_data": cwd_data, "repo_data": repo_data, "tmp": tmp_path}


def test_explicit_wins_over_everything(layout, monkeypatch):
    own = layout["tmp"] / "own"
    own.mkdir()
    monkeypatch.setenv("HANDSDK_DATA", str(layout["repo_data"]))
    assert catalog.data_root(own) == own
    assert catalog.data_root(str(own)) == own


def test_env_wins_over_defaults(layout, monkeypatch):
    monkeypatch.setenv("HANDSDK_DATA", str(layout["repo_data"]))
    assert catalog.data_root() == layout["repo_data"]


def test_cwd_before_checkout_then_checkout(layout):
    assert catalog.data_root() == layout["cwd_data"].resolve()
    layout["cwd_data"].rmdir()
    assert catalog.data_root() == layout["repo_data"].resolve()


def test_missing_roots_say_what_was_tried(layout, monkeypatch):
    with pytest.raises(FileNotFoundError, match="given as an argument"):
        catalog.data_root(layout["tmp"] / "nope")
    monkeypatch.setenv("HANDSDK_DATA", str(layout["tmp"] / "missing"))
    with pytest.raises(FileNotFoundError, match=r"\$HANDSDK_DATA"):
        catalog.data_root()  # a set variable is taken as given: no fallback
    monkeypatch.delenv("HANDSDK_DATA")
    layout["cwd_data"].rmdir()
    layout["repo_data"].rmdir()
    with pytest.raises(FileNotFoundError) as e:
        catalog.data_root()
    msg = str(e.value)
    assert str(layout["tmp"] / "work" / "shared" / "data") in msg
    assert str(layout["tmp"] / "repo" / "shared" / "data") in msg and "HANDSDK_DATA" in msg
    assert catalog.find_data_root() is None
    # unchecked: the first candidate
    assert catalog.data_root(must_exist=False) == (layout["tmp"] / "work" / "shared" / "data").resolve()


def test_every_copy_uses_the_one_lookup(layout, monkeypatch):
    """The training readers, the training config and the tests' fixture agree."""
    from conftest import shared_data_root
    from handsdk.train import config as C

    want = layout["cwd_data"].resolve()
    assert catalog.data_root() == want and C.data_root() == want and shared_data_root() == want
    monkeypatch.setenv("HANDSDK_DATA", str(layout["repo_data"]))
    assert catalog.data_root() == C.data_root() == shared_data_root() == layout["repo_data"]


def test_the_lookup_is_light():
    """The tools read the root without loading the readers or TensorFlow."""
    code = ("import sys, handsdk.train.data.catalog\n"
            "print(sorted(m for m in sys.modules if m.startswith('handsdk.train') or m.startswith('tensorflow')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['handsdk.train', 'handsdk.train.data', 'handsdk.train.data.catalog']"

"""The committed tiny-model fixture (tests/fixtures/tiny/) is current with the
script that writes it; no TensorFlow needed."""
from __future__ import annotations

import hashlib
import json

import pytest
from conftest import fixture_script as fx


def test_the_committed_fixture_is_current_with_its_script():
    manifest = fx.read_manifest()
    assert manifest is not None, f"the test fixture is absent; {fx.REGENERATE}"
    assert manifest["script_sha256"] == fx.source_sha256(), (
        f"tests/fixtures/make_fixtures.py changed since tests/fixtures/tiny/ was written; regenerate: {fx.REGENERATE}")
    assert fx.staleness() is None


def test_the_fixture_files_match_the_manifest_and_stay_small():
    manifest = fx.read_manifest()
    assert set(manifest["models"]) == set(fx.FILES)
    models = fx.load_fixtures()
    for role, data in models.items():
        assert manifest["models"][role]["sha256"] == hashlib.sha256(data).hexdigest()
        assert manifest["models"][role]["file"] == fx.FILES[role]
    assert sum(len(d) for d in models.values()) < 200_000


def test_damaged_and_stale_fixtures_are_reported(tmp_path):
    for role, name in fx.FILES.items():
        (tmp_path / name).write_bytes((fx.FIXTURE_DIR / name).read_bytes())
    manifest = fx.read_manifest()
    (tmp_path / fx.MANIFEST).write_text(json.dumps(manifest))
    assert fx.staleness(tmp_path) is None
    (tmp_path / fx.MANIFEST).write_text(json.dumps({**manifest, "script_sha256": "0" * 64}))
    assert "changed" in fx.staleness(tmp_path)
    (tmp_path / fx.MANIFEST).write_text(json.dumps(manifest))
    (tmp_path / fx.FILES["detector"]).write_bytes(b"junk")
    with pytest.raises(fx.FixtureError, match="make_fixtures.py"):
        fx.load_fixtures(tmp_path)
    assert fx.load_fixtures(tmp_path / "absent") is None
    assert fx.main(["--check", "--out", str(tmp_path)]) == 1

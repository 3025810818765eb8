"""publish-artifact as a use case: files first, then the store."""

from __future__ import annotations

from pathlib import Path

from pipelinelib.formats import groovy
from pipelinelib.formats import manifest as manifest_json
from pipelinelib.pipeline import publish
from tests.fakes.store import MemoryStore


def test_publish_writes_both_files_and_registers_once(tmp_path: Path) -> None:
    store = MemoryStore()
    kwargs = {
        "service": "service1",
        "build": 90,
        "job": "service1-build",
        "output_dir": tmp_path,
        "image": "registry.example/service1:90",
        "commit": "a" * 40,
        "message": "Fix login\n\nDetails",
        "store": store,
    }
    first = publish.publish_artifact(**kwargs)  # type: ignore[arg-type]
    again = publish.publish_artifact(**kwargs)  # type: ignore[arg-type]
    assert (first.created, again.created) == (True, False)
    variables = groovy.parse_env_groovy(first.env_file.read_text())
    assert variables["SERVICE1_BUILD"] == "90"
    assert manifest_json.read(first.manifest_file) == first.manifest
    assert store.get_build("service1-build", 90).display_name == "Fix login\n\nDetails"


def test_without_a_store_nothing_is_registered(tmp_path: Path) -> None:
    result = publish.publish_artifact(
        service="service1", build=1, job="j", output_dir=tmp_path, commit="b" * 40, message="m"
    )
    assert result.created is None and result.env_file.exists()

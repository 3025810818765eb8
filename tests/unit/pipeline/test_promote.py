"""Promotion as a use case, against the in-memory store (no CLI): select, import, record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelinelib.errors import (
    ConflictError,
    DeploymentRefusedError,
    InvalidInputError,
    NotFoundError,
)
from pipelinelib.model import SourceRef
from pipelinelib.pipeline import importdir, promote
from tests.fakes.manifests import build_manifest
from tests.fakes.store import MemoryStore


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(
        [
            build_manifest("service1-build", 90, message="Fix login"),
            build_manifest("service1-build", 91, message="Fix logout"),
            build_manifest("service1-build", 92, result="FAILURE"),
            build_manifest("service2-build", 7, service="service2", message="Seven"),
        ]
    )


def test_select_build_takes_the_newest_successful_or_the_chosen_one(store: MemoryStore) -> None:
    assert promote.select_build(store, "service1-build").number == 91
    assert promote.select_build(store, "service1-build", "90-Fix login").number == 90
    with pytest.raises(InvalidInputError, match="#92 finished FAILURE"):
        promote.select_build(store, "service1-build", "92")
    with pytest.raises(NotFoundError, match="no build of job 'nothing-built' is recorded"):
        promote.select_build(store, "nothing-built")
    with pytest.raises(InvalidInputError, match="does not match service1-build #90"):
        promote.select_build(store, "service1-build", "90-Fix logout")


def test_import_of_one_build_records_its_source_and_writes_a_consistent_directory(
    store: MemoryStore, tmp_path: Path
) -> None:
    result = promote.import_artifacts(store, from_jobs=["service1-build"], target=tmp_path)
    assert result.manifest.source == SourceRef("service1-build", 91)
    read = importdir.read(tmp_path)  # what every deploy step reads: it passes the check
    assert read.builds == {"service1": "91"}
    assert read.source == SourceRef("service1-build", 91) and read.overrides == ()
    assert [p.name for p in result.env_files] == ["service1.env.groovy"]


def test_a_composition_with_an_override_has_no_source_and_names_the_override(
    store: MemoryStore, tmp_path: Path
) -> None:
    result = promote.import_artifacts(
        store,
        from_jobs=["service1-build", "service2-build"],
        target=tmp_path,
        overrides=promote.parse_overrides(["service1=90"]),
    )
    assert result.manifest.source is None
    assert {n: s.build for n, s in result.manifest.services.items()} == {
        "service1": 90,
        "service2": 7,
    }
    imports = json.loads((tmp_path / "imports.json").read_text())
    assert imports["services"]["service1"] == {"override": 90}
    assert importdir.read(tmp_path).overrides == ("service1",)


def test_a_second_import_removes_the_first_imports_env_files(
    store: MemoryStore, tmp_path: Path
) -> None:
    promote.import_artifacts(store, from_jobs=["service1-build", "service2-build"], target=tmp_path)
    promote.import_artifacts(store, from_jobs=["service2-build"], target=tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.env.groovy")) == ["service2.env.groovy"]
    assert importdir.read(tmp_path).builds == {"service2": "7"}


def test_overrides_must_name_imported_services_once() -> None:
    with pytest.raises(InvalidInputError, match="overridden twice"):
        promote.parse_overrides(["service1=1", "service1=2"])
    with pytest.raises(InvalidInputError, match="expected SERVICE=BUILD"):
        promote.parse_overrides(["service1"])


def test_two_upstreams_that_disagree_on_a_service_conflict(
    store: MemoryStore, tmp_path: Path
) -> None:
    store.publish(build_manifest("other-build", 95, message="Other"))  # holds service1 95
    with pytest.raises(ConflictError, match="service service1 is build 91 in service1-build"):
        promote.import_artifacts(
            store, from_jobs=["service1-build", "other-build"], target=tmp_path
        )


def test_record_deployment_records_the_import_unchanged_and_re_archives_it(
    store: MemoryStore, tmp_path: Path
) -> None:
    promote.import_artifacts(store, from_jobs=["service1-build"], target=tmp_path / "import")
    result = promote.record_deployment(
        store,
        environment="test",
        job="deploy-test",
        number=4,
        import_dir=tmp_path / "import",
        output_dir=tmp_path / "output",
        rollout={"service1": "COMPLETED"},
    )
    assert result.created and result.deployment.result == "SUCCESS"
    assert store.environments()["test"].services["service1"].build == 91
    assert json.loads((tmp_path / "output" / "manifest.json").read_text())["environment"] == "test"


def test_a_failed_rollout_is_history_but_not_the_current_deployment(
    store: MemoryStore, tmp_path: Path
) -> None:
    promote.import_artifacts(store, from_jobs=["service1-build"], target=tmp_path / "import")
    result = promote.record_deployment(
        store,
        environment="test",
        job="deploy-test",
        number=5,
        import_dir=tmp_path / "import",
        output_dir=tmp_path / "output",
        rollout={"service1": "ROLLED_BACK"},
    )
    assert result.deployment.result == "FAILURE"
    assert "test" not in store.environments()
    assert [m.number for m in store.history("test")] == [5]


def test_a_deployment_edited_after_import_is_refused_by_the_store(
    store: MemoryStore, tmp_path: Path
) -> None:
    promote.import_artifacts(store, from_jobs=["service1-build"], target=tmp_path / "import")
    manifest_file = tmp_path / "import" / "manifest.json"
    data = json.loads(manifest_file.read_text())
    data["services"]["service1"]["commit"] = "f" * 40
    manifest_file.write_text(json.dumps(data))
    (tmp_path / "import" / "service1.env.groovy").unlink()  # no env file left to disagree
    with pytest.raises(DeploymentRefusedError, match="refusing deploy-test #6"):
        promote.record_deployment(
            store,
            environment="test",
            job="deploy-test",
            number=6,
            import_dir=tmp_path / "import",
            output_dir=tmp_path / "output",
        )
    assert store.history("test") == []

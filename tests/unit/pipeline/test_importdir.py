"""importdir: the one reader and writer of an import directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelinelib.errors import ArtifactFormatError, ImportMismatchError, NotFoundError
from pipelinelib.formats import groovy
from pipelinelib.model import Manifest, SourceRef
from pipelinelib.pipeline import importdir
from tests.fakes.manifests import service_build


def written(tmp_path: Path) -> Path:
    manifest = Manifest(
        job="deploy-test",
        number=3,
        source=SourceRef("deploy-test", 3),
        services=[service_build("service1", 91), service_build("order-api", 12)],
    )
    importdir.write(tmp_path, manifest, {"exact": True, "sources": [], "services": {}})
    return tmp_path


def test_what_write_writes_read_reads(tmp_path: Path) -> None:
    read = importdir.read(written(tmp_path))
    assert read.builds == {"service1": "91", "order-api": "12"}
    assert read.manifest is not None and read.manifest.number == 3


def test_an_edited_image_is_named_with_both_values(tmp_path: Path) -> None:
    path = written(tmp_path) / "order-api.env.groovy"
    path.write_text(path.read_text().replace("order-api:12", "order-api:13"))
    with pytest.raises(ImportMismatchError) as caught:
        importdir.read(tmp_path)
    message = str(caught.value)
    assert f"{path} has ORDER_API_IMAGE" in message
    assert "order-api:13'" in message and "order-api:12'" in message
    assert f"{tmp_path / 'manifest.json'} has" in message


def test_a_variable_added_to_an_env_file_is_a_disagreement(tmp_path: Path) -> None:
    path = written(tmp_path) / "service1.env.groovy"
    path.write_text(path.read_text() + groovy.render_assignment("SERVICE1_EXTRA", "x"))
    with pytest.raises(ImportMismatchError, match=r"has SERVICE1_EXTRA 'x' but .* has absent"):
        importdir.read(tmp_path)


def test_a_directory_of_env_files_only_is_read_from_them(tmp_path: Path) -> None:
    (tmp_path / "service1.env.groovy").write_text(
        groovy.render_env_groovy([service_build("service1", 90)])
    )
    read = importdir.read(tmp_path)
    assert read.manifest is None and read.builds == {"service1": "90"}
    with pytest.raises(NotFoundError, match="record-deployment records what import-artifacts"):
        importdir.read_import(tmp_path)


def test_a_manifest_alone_is_read_as_it_is(tmp_path: Path) -> None:
    for path in written(tmp_path).glob("*.env.groovy"):
        path.unlink()
    assert importdir.read(tmp_path).builds == {"service1": "91", "order-api": "12"}


def test_missing_or_empty_directories_are_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        importdir.read(tmp_path / "nope")
    with pytest.raises(NotFoundError, match=r"no manifest\.json and no"):
        importdir.read(tmp_path)


def test_a_broken_imports_file_is_a_format_error(tmp_path: Path) -> None:
    (written(tmp_path) / "imports.json").write_text('{"sources": 3}')
    with pytest.raises(ArtifactFormatError, match="not what import-artifacts writes"):
        importdir.read(tmp_path)

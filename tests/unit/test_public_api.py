"""The public face a library user imports: ``pipelinelib.__all__``."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import pipelinelib


@pytest.mark.parametrize("name", [n for n in pipelinelib.__all__ if n != "__version__"])
def test_every_public_name_resolves_and_is_documented(name: str) -> None:
    value = getattr(pipelinelib, name)
    doc = inspect.getdoc(value)
    assert doc and len(doc) > 20, f"{name} has no docstring worth the name"


def test_the_verbs_and_open_store_are_the_ones_the_cli_uses() -> None:
    from pipelinelib import pipeline, store

    assert pipelinelib.open_store is store.open_store
    assert pipelinelib.import_artifacts is pipeline.import_artifacts
    assert pipelinelib.read_import_dir is pipeline.importdir.read


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = pipelinelib.nope  # type: ignore[attr-defined]


def test_importing_the_package_loads_nothing_it_does_not_need() -> None:
    code = (
        "import sys, pipelinelib\n"
        "print(','.join(m for m in ('attrs', 'pipelinelib.model', 'pipelinelib.pipeline')"
        " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_no_public_name_hides_a_module_of_the_package() -> None:
    import pkgutil

    modules = {m.name for m in pkgutil.iter_modules(pipelinelib.__path__)}
    assert modules & set(pipelinelib.__all__) == set()
    code = "from pipelinelib import orchestrate\nprint(type(orchestrate).__name__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "module"

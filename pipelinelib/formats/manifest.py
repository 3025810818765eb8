"""``manifest.json`` and ``<service>.manifest.json``: the JSON form of :class:`Manifest`."""

from __future__ import annotations

import json
from pathlib import Path

from pipelinelib.errors import ArtifactFormatError, FileAccessError, InvalidInputError
from pipelinelib.formats import strict_json
from pipelinelib.model import Manifest


def dumps(manifest: Manifest) -> str:
    # ensure_ascii keeps NUL and every control character as a JSON escape: safe in any database.
    return json.dumps(manifest.to_dict(), indent=2, ensure_ascii=True) + "\n"


def loads(text: str, name: str = "<manifest>") -> Manifest:
    data = strict_json.loads(text, name, ArtifactFormatError)
    try:
        return Manifest.from_dict(data)
    except ArtifactFormatError:
        raise
    except InvalidInputError as exc:  # name the file the bad value came from
        raise ArtifactFormatError(f"{name}: {exc}") from exc


def read(path: Path) -> Manifest:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FileAccessError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise FileAccessError(f"{path}: cannot read ({exc})") from exc
    return loads(text, str(path))

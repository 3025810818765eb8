"""Terraform inputs: the ``service_builds`` and ``service_images`` maps, as JSON tfvars or ``-var``."""

from __future__ import annotations

import json
from collections.abc import Mapping


def render_tfvars_json(service_builds: Mapping[str, str | int]) -> str:
    """``{"service_builds": {"service1": "90"}}``: JSON, so no user text is ever shell-quoted."""
    builds = {name: str(build) for name, build in sorted(service_builds.items())}
    return json.dumps({"service_builds": builds}, indent=2, sort_keys=True) + "\n"


def terraform_var_args(service_builds: Mapping[str, str | int]) -> list[str]:
    """``-var=service_builds={...}`` as ONE argument (a JSON object is valid HCL)."""
    builds = {name: str(build) for name, build in sorted(service_builds.items())}
    return [f"-var=service_builds={json.dumps(builds, separators=(',', ':'))}"]


def render_variable_json(name: str, values: Mapping[str, str]) -> str:
    """``{"<name>": {...}}`` as a ``*.auto.tfvars.json`` file, keys sorted."""
    return json.dumps({name: dict(sorted(values.items()))}, indent=2, sort_keys=True) + "\n"

"""Writes docs/cli.md from the commands' own --help, so the reference can never drift.

Run `make docs` after changing a command; tests/unit/test_cli_docs.py fails when it is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipelinelib.cli import cli

HEADER = """# CLI reference

Generated from `pipelinelib --help` by `make docs` (scripts/gen_cli_docs.py); do not edit by hand.

Every command prints errors as one line `error: ...` on stderr, with no traceback, and exits with
the error's code (see *Exit codes* at the end). Flags beat environment variables, which beat
defaults.

"""

EXIT_CODES = """
## Exit codes

| code | meaning |
|---|---|
| 0 | success |
| 1 | any other error (an internal error says so and how to get a traceback) |
| 2 | invalid input or usage: bad name or number, unreadable env.groovy, missing confirmation |
| 3 | not found: job, build, environment, stack |
| 4 | conflict: the same job #number recorded with different content |
| 5 | authentication or permission refused |
| 6 | git could not answer (not a repository, no commit) |
| 7 | a file or directory could not be read or written |
| 8 | the store (database or manifest service) is unavailable |
| 9 | a remote system (Jenkins, AWS) failed or answered unexpectedly |
| 10 | verification failed (image missing in ECR, digest mismatch) |
| 11 | an ECS rollout failed, was rolled back or timed out |
| other | `orchestrate` passes Terraform's own exit code through |
"""


def render() -> str:
    parts = [HEADER]
    # The group's context_settings (help_option_names: -h, --help) as the real CLI uses them;
    # without them the help text depended on whether a command had run in this process before.
    settings = {**cli.context_settings, "terminal_width": 100}
    with click.Context(cli, info_name="pipelinelib", **settings) as ctx:
        parts.append("## pipelinelib\n\n```\n" + cli.get_help(ctx) + "\n```\n")
        for name in sorted(cli.list_commands(ctx)):
            command = cli.get_command(ctx, name)
            assert command is not None
            with click.Context(command, info_name=name, parent=ctx, terminal_width=100) as sub:
                parts.append(f"\n## pipelinelib {name}\n\n```\n{command.get_help(sub)}\n```\n")
    parts.append(EXIT_CODES)
    return "".join(parts)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/cli.md")
    target.write_text(render(), encoding="utf-8")

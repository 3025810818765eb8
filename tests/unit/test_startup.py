"""Start-up is part of the interface: the CLI must not import heavy libraries it may not need."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["sqlalchemy", "flask", "boto3", "botocore", "jenkins", "requests", "alembic", "psycopg"]


def test_importing_the_cli_loads_no_heavy_library() -> None:
    code = f"import sys, pipelinelib.cli\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_file_only_commands_load_no_heavy_library(tmp_path: object) -> None:
    code = (
        "import sys\n"
        "from pipelinelib.cli import main\n"
        "try:\n"
        "    main(['publish-artifact', '--service', 's', '--build', '1', '--job', 'j', '--commit', 'a'*40,"
        f" '--message', 'm', '--no-register', '--output-dir', {str(tmp_path)!r}])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == ""

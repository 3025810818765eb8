"""Run checkov over an orchestration root and compare its findings with a checked-in baseline.

Usage: python scripts/checkov_baseline.py [--checkov PATH] [--baseline FILE] [DIR]

The baseline (``terraform/checkov-baseline.json`` by default) lists the findings we accept, each
``{"check_id", "file", "resource", "reason"}`` with ``file`` relative to DIR and a one-line
reason. Exit 1 when checkov reports a finding the baseline does not accept, when an entry has no
reason, or when an accepted finding is no longer reported (so the list never goes stale);
exit 2 when checkov cannot run or cannot parse a file. Any stack under DIR (new roots and
modules too) is covered without configuration: add its accepted findings to the same file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

Key = tuple[str, str, str]


def _key(entry: dict[str, Any]) -> Key:
    return (str(entry["check_id"]), str(entry["file"]).lstrip("/"), str(entry["resource"]))


def run_checkov(checkov: str, directory: Path) -> list[dict[str, Any]]:
    """checkov's failed checks as baseline-shaped entries (``file`` relative to ``directory``)."""
    done = subprocess.run(
        [checkov, "-d", str(directory), "--framework", "terraform", "-o", "json", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        sys.exit(f"checkov failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    try:
        reports = json.loads(done.stdout)
    except ValueError:
        sys.exit(f"checkov printed no JSON report: {done.stdout[-500:]} {done.stderr[-2000:]}")
    found = []
    for report in reports if isinstance(reports, list) else [reports]:
        if not isinstance(report, dict) or "results" not in report:
            continue  # an empty run prints a bare summary
        errors = report.get("summary", {}).get("parsing_errors", 0)
        if errors:
            sys.exit(f"checkov could not parse {errors} file(s) under {directory}")
        for check in report["results"]["failed_checks"]:
            found.append(
                {
                    "check_id": check["check_id"],
                    "file": check["file_path"].lstrip("/"),
                    "resource": check["resource"],
                    "name": check.get("check_name", ""),
                }
            )
    return found


def compare(found: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> list[str]:
    """The problems, one line each; empty when the findings are exactly the accepted ones."""
    problems = []
    accepted = {}
    for entry in baseline:
        key = _key(entry)
        reason = str(entry.get("reason", "")).strip()
        if not reason or "\n" in reason:
            problems.append(f"baseline entry {' '.join(key)} needs a one-line reason")
        accepted[key] = entry
    reported = {_key(f): f for f in found}
    for key, finding in sorted(reported.items()):
        if key not in accepted:
            problems.append(
                f"new finding {key[0]} ({finding['name']}) on {key[2]} in {key[1]}: fix it, "
                "or accept it in the baseline with a reason"
            )
    for key in sorted(set(accepted) - set(reported)):
        problems.append(f"accepted finding {' '.join(key)} is no longer reported: remove it")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", default="terraform", type=Path)
    parser.add_argument("--checkov", default=".venv/checkov/bin/checkov")
    parser.add_argument("--baseline", type=Path)
    args = parser.parse_args(argv)
    baseline_file = args.baseline or args.directory / "checkov-baseline.json"
    baseline = json.loads(baseline_file.read_text(encoding="utf-8"))["accepted"]
    found = run_checkov(args.checkov, args.directory)
    problems = compare(found, baseline)
    for line in problems:
        print(f"checkov: {line}", file=sys.stderr)
    if not problems:
        print(f"checkov: {len(found)} finding(s), all accepted in {baseline_file}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""The local dry run end to end: the ledger afterwards is what the pipeline promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelinelib import demo, pipeline
from pipelinelib.model import SourceRef
from pipelinelib.store.sql import SqlStore


def test_demo_promotes_one_set_of_images_and_leaves_the_ledger(tmp_path: Path) -> None:
    said: list[str] = []
    db = demo.run(tmp_path / "demo", said.append)
    store = SqlStore.from_url(f"sqlite:///{db}")
    try:
        envs = store.environments()
        builds = {env: {n: s.build for n, s in m.services.items()} for env, m in envs.items()}
        assert builds == {
            "test": {"service1": 93, "service2": 45},  # the later history (step 8)
            "beta": {"service1": 93, "service2": 45},
            "staging": {"service1": 91, "service2": 45},
            "live": {"service1": 90, "service2": 45},  # rolled back
        }
        first_live = store.get_build("deploy-live", 2)
        # Live ran exactly the images staging ran: same tags AND digests, copied unchanged;
        # the rollback runs exactly what live ran before.
        assert first_live.services == store.get_build("deploy-staging", 1).services
        assert envs["live"].services == first_live.services
        assert {s.image for s in envs["live"].services.values()} == {
            f"{demo.REGISTRY}/service1:90",
            f"{demo.REGISTRY}/service2:45",
        }
        assert envs["beta"].source == SourceRef("deploy-test", 4)
        assert envs["staging"].source == SourceRef("deploy-beta", 2)
        assert first_live.source == SourceRef("deploy-staging", 1)
        assert envs["test"].source is None  # composed from the service build jobs
        assert [m.number for m in store.history("test")] == [4, 3, 2, 1]
        # deploy-test #3 timed out in its rollout: recorded, as a failure, for the metrics.
        assert store.get_build("deploy-test", 3).result == "FAILURE"
        # deploy-live #1 (test straight to live) was refused: nothing recorded.
        assert [m.number for m in store.history("live")] == [4, 3, 2]
        rollback = envs["live"].deployment
        assert rollback is not None and rollback.kind == "rollback"
        assert envs["live"].source == SourceRef("deploy-live", 2)
        assert rollback.reason == "checkout errors after the last release"
        assert [a.by for a in rollback.approvals] == [demo.APPROVER]
        assert rollback.requested_by == demo.REQUESTER
        assert rollback.lock == "deploy-live#4"
        assert store.locks() == []  # every deploy released its lock
        change = {c.service: c for c in pipeline.diff(store, "test", "live").services}
        assert change["service1"].change == "upgrade"
        assert [c.build for c in change["service1"].commits] == [93, 92, 91]
        assert change["service2"].change == "same"
        # The commit message with quotes and ${...} travelled untouched.
        assert envs["live"].services["service1"].commit_message == (
            "Fix 'quoted' login ${not interpolated}\n\nSessions now survive."
        )
    finally:
        store.close()
    text = "\n".join(said)
    assert "refused: appcluster-live is a live stack" in text
    assert "live takes deployments of staging only" in text
    assert "refused: cannot lock: live is locked by deploy-live#2" in text
    assert "approving your own request is not allowed" in text
    assert "would run: pipelinelib orchestrate apply appcluster-live" in text
    assert "a person picks '1-" in text or 'a person picks "1-' in text
    env_file = tmp_path / "demo" / "jobs" / "deploy-live" / "2" / "output" / "service1.env.groovy"
    assert "env.SERVICE1_BUILD = '90'" in env_file.read_text()


def test_the_demo_command_runs_and_refuses_a_used_directory(tmp_path: Path) -> None:
    workdir = tmp_path / "w"
    first = subprocess.run(
        [sys.executable, "-m", "pipelinelib", "demo", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    assert "== 9. What is where" in first.stdout
    assert "per environment" in first.stdout  # the metrics the demo prints
    assert (workdir / ".pipelinelib" / "pipelinelib.db").exists()
    # A new user's next step: status in the demo folder finds the demo's store.
    status = subprocess.run(
        [sys.executable, "-m", "pipelinelib", "status"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=workdir,
        env={k: v for k, v in os.environ.items() if not k.startswith("PIPELINELIB_")},
    )
    assert status.returncode == 0, status.stderr
    assert "nothing has been deployed yet" not in status.stdout
    assert "live" in status.stdout
    again = subprocess.run(
        [sys.executable, "-m", "pipelinelib", "demo", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert again.returncode == 2
    assert again.stderr.startswith("error: ") and "is not empty" in again.stderr

"""The web board in real headless Chromium: the demo's matrix renders and hostile names stay text."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipelinelib import demo
from pipelinelib.model import Manifest, ServiceBuild
from pipelinelib.store.sql import SqlStore
from tests.fixtures.service import StartService

pytestmark = pytest.mark.chromium

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
XSS = "<img src=x onerror=alert(1)>"


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "chromium is not installed; `make test` installs it (scripts/install-tools.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _headless(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class _Dom(HTMLParser):
    """What the browser built: elements (with the cells' data attributes) and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cells: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("td", "tr", "th"):
            self.cells.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _add_hostile_sandbox(db: Path) -> None:
    store = SqlStore.from_url(f"sqlite:///{db}")
    try:
        entry = ServiceBuild(
            name="service3",
            build=7,
            image=f"{demo.REGISTRY}/service3:7",
            commit="ab" * 20,
            commit_message=XSS,
        )
        store.publish(Manifest(job="service3-build", number=7, display_name=XSS, services=[entry]))
        store.publish(
            Manifest(
                job="deploy-sandbox",
                number=1,
                environment="sandbox",
                display_name=XSS + "\n<script>alert(2)</script>",
                services=[entry],
            )
        )
    finally:
        store.close()


def test_board_renders_the_demo_matrix_and_keeps_hostile_names_inert(
    tmp_path: Path, start_service: StartService
) -> None:
    chromium = _chromium()
    db = demo.run(tmp_path / "demo", lambda _line: None)
    _add_hostile_sandbox(db)
    service = start_service(f"sqlite:///{db}", environments=demo.SOURCE_ENVIRONMENTS)

    dumped = _headless(chromium, tmp_path / "profile", "--dump-dom", service.url + "/")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = _Dom()
    dom.feed(dumped.stdout)
    assert "table" in dom.tags
    headers = [c.get("data-environment") for c in dom.cells if c.get("data-environment")]
    assert headers == ["test", "beta", "staging", "live", "sandbox"]
    rows = [c.get("data-service") for c in dom.cells if c.get("data-service")]
    assert rows == ["service1", "service2", "service3"]
    builds = [c.get("data-build") for c in dom.cells if c.get("data-build")]
    # service1 row: 93 in test/beta (the demo's later history), 91 in staging, 90 in live (rolled
    # back); service2: 45 everywhere; service3: 7.
    assert builds == ["93", "93", "91", "90", "45", "45", "45", "45", "7"]
    text = "".join(dom.text)
    assert "rollback: checkout errors after the last release" in text
    assert "approved by demo-lead" in text
    assert XSS in text  # shown to people as the text it is
    assert "img" not in dom.tags  # and never became an element
    assert "script" not in dom.tags

    ARTIFACTS.mkdir(exist_ok=True)
    for name, size in (("board.png", "1280,900"), ("board-phone.png", "390,844")):
        shot = ARTIFACTS / name
        shot.unlink(missing_ok=True)
        taken = _headless(
            chromium,
            tmp_path / "profile",
            f"--screenshot={shot}",
            f"--window-size={size}",
            "--hide-scrollbars",
            service.url + "/",
        )
        assert taken.returncode == 0, taken.stderr[-2000:]
        assert shot.stat().st_size > 5_000  # a rendered page, not an empty frame
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_history_and_diff_pages_render_in_the_browser(
    tmp_path: Path, start_service: StartService
) -> None:
    chromium = _chromium()
    db = demo.run(tmp_path / "demo", lambda _line: None)
    service = start_service(f"sqlite:///{db}", environments=demo.SOURCE_ENVIRONMENTS)
    history = _headless(chromium, tmp_path / "p", "--dump-dom", service.url + "/environments/test")
    dom = _Dom()
    dom.feed(history.stdout)
    numbers = [c.get("data-number") for c in dom.cells if c.get("data-number")]
    assert numbers == ["4", "3", "2", "1"]
    live = _headless(chromium, tmp_path / "p", "--dump-dom", service.url + "/environments/live")
    dom = _Dom()
    dom.feed(live.stdout)
    text = " ".join(dom.text)
    assert [c.get("data-number") for c in dom.cells if c.get("data-number")] == ["4", "3", "2"]
    for shown in (
        "rollback",
        "reason: checkout errors after the last release",
        "requested by demo-dev",
        "approved by demo-lead",
        "lock deploy-live#4",
    ):
        assert shown in text, shown
    diff = _headless(
        chromium, tmp_path / "p", "--dump-dom", service.url + "/diff?from=test&to=live"
    )
    dom = _Dom()
    dom.feed(diff.stdout)
    text = "".join(dom.text)
    assert "Promoting test to live" in text
    assert "Fix logout redirect" in text  # the commit the promotion brings

"""The metrics and history pages in real headless Chromium, on the demo's ledger (a failed
rollout, a rollback) plus a hostile display name; screenshots at desktop and phone widths are
saved under test-artifacts/ for people to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelinelib import demo
from tests.e2e.test_board_chromium import (
    ARTIFACTS,
    XSS,
    _add_hostile_sandbox,
    _chromium,
    _Dom,
    _headless,
)
from tests.fixtures.service import StartService

pytestmark = pytest.mark.chromium

SIZES = (("desktop", "1280,1000"), ("phone", "390,844"))


def test_metrics_history_and_board_render_with_plots_and_inert_names(
    tmp_path: Path, start_service: StartService
) -> None:
    chromium = _chromium()
    db = demo.run(tmp_path / "demo", lambda _line: None)
    _add_hostile_sandbox(db)
    service = start_service(f"sqlite:///{db}", environments=demo.SOURCE_ENVIRONMENTS)

    insight = _headless(chromium, tmp_path / "p", "--dump-dom", service.url + "/insight")
    assert insight.returncode == 0, insight.stderr[-2000:]
    dom = _Dom()
    dom.feed(insight.stdout)
    assert dom.tags.count("svg") >= 3  # deployments per day (all + each environment), two bars
    assert "rect" in dom.tags  # the browser parsed the inline SVG into drawable elements
    assert "script" not in dom.tags and "img" not in dom.tags
    text = " ".join(dom.text)
    for shown in ("deployment frequency", "lead time for changes", "change failure rate"):
        assert shown in text
    assert "sandbox" in text  # the hostile deployment's environment has its own figures

    history = _headless(chromium, tmp_path / "p", "--dump-dom", service.url + "/history")
    dom = _Dom()
    dom.feed(history.stdout)
    outcomes = [c.get("data-outcome") for c in dom.cells if c.get("data-outcome")]
    assert {"SUCCESS", "FAILURE", "ROLLED_BACK"} <= set(outcomes)
    assert XSS in "".join(dom.text)
    assert "img" not in dom.tags and "script" not in dom.tags

    board = _headless(chromium, tmp_path / "p", "--dump-dom", service.url + "/")
    dom = _Dom()
    dom.feed(board.stdout)
    drift = [c.get("title") for c in dom.cells if c.get("data-drift")]
    assert "staging is 2 builds behind beta" in drift

    ARTIFACTS.mkdir(exist_ok=True)
    for page, path in (("insight", "/insight"), ("history", "/history"), ("board-drift", "/")):
        for label, size in SIZES:
            shot = ARTIFACTS / f"{page}-{label}.png"
            shot.unlink(missing_ok=True)
            taken = _headless(
                chromium,
                tmp_path / "p",
                f"--screenshot={shot}",
                f"--window-size={size}",
                "--hide-scrollbars",
                service.url + path,
            )
            assert taken.returncode == 0, taken.stderr[-2000:]
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert shot.stat().st_size > 5_000

"""Long work as people read it: change-only lines and a heartbeat in logs, one live line on a TTY."""

from __future__ import annotations

from pipelinelib.progress import ProgressRenderer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_log_gets_changes_and_a_heartbeat_not_one_line_per_poll() -> None:
    out: list[str] = []
    clock = Clock()
    renderer = ProgressRenderer(out.append, live=False, heartbeat=60, clock=clock)
    # 15 minutes of polls every 10 s, the state changing twice: the field report had 90 lines.
    for poll in range(90):
        clock.now = poll * 10.0
        running = 0 if poll < 30 else 1 if poll < 60 else 2
        renderer.update("service1", f"service1: IN_PROGRESS running {running}/2")
    lines = "".join(out).splitlines()
    changes = [line for line in lines if "no change for" not in line]
    heartbeats = [line for line in lines if "no change for" in line]
    assert [c.split("] ", 1)[1] for c in changes] == [
        "service1: IN_PROGRESS running 0/2",
        "service1: IN_PROGRESS running 1/2",
        "service1: IN_PROGRESS running 2/2",
    ]
    assert len(heartbeats) == 12  # one a minute while nothing changes
    assert heartbeats[0] == "[1m00s] service1: IN_PROGRESS running 0/2 (no change for 1m00s)"
    assert len(lines) == 15


def test_services_are_tracked_apart_and_events_always_print() -> None:
    out: list[str] = []
    clock = Clock()
    renderer = ProgressRenderer(out.append, live=False, clock=clock)
    renderer.update("a", "a: IN_PROGRESS")
    renderer.update("b", "b: IN_PROGRESS")
    renderer.update("a", "a: IN_PROGRESS")
    renderer.event("    05:00:02 (service a) has started 1 tasks")
    assert "".join(out).splitlines() == [
        "[0s] a: IN_PROGRESS",
        "[0s] b: IN_PROGRESS",
        "    05:00:02 (service a) has started 1 tasks",
    ]


def test_a_terminal_gets_one_live_line_rewritten_in_place() -> None:
    out: list[str] = []
    clock = Clock()
    renderer = ProgressRenderer(out.append, live=True, clock=clock, width=80)
    for step in range(5):
        clock.now = step * 1.0
        renderer.update("copy", f"copying: {step} file(s) done")
    renderer.event("copied a.bin")
    renderer.close()
    text = "".join(out)
    assert text.count("\n") == 2  # the event and the final line; the rest rewrote one line
    assert "\r\x1b[K[4s] copying: 4 file(s) done" in text
    assert text.endswith("copying: 4 file(s) done\n")
    assert all(len(part) <= 80 for part in text.replace("\r\x1b[K", "\n").splitlines())

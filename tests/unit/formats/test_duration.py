"""Durations as people type them (--timeout): the package's one parser."""

from __future__ import annotations

import pytest

from pipelinelib.errors import InvalidInputError
from pipelinelib.formats import duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("45", 45), (" 2M ", 120)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert duration.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "0s", "15 minutes", "-5", "1.5h", "m"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(InvalidInputError, match="duration"):
        duration.parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"), [(45, "45s"), (90, "90s"), (900, "15m"), (3600, "1h"), (5400, "90m")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert duration.format_duration(seconds) == text

"""`python -m bench`: a maintainer re-measuring the figures in docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import available, main

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_help_lists_every_benchmark_without_running_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    modules = sorted(p.stem for p in BENCH.glob("*.py") if not p.stem.startswith("_"))
    assert list(available()) == modules
    for name in modules:
        assert f"  {name} " in out
    assert "== bench." not in out


def test_an_unknown_benchmark_is_refused_with_the_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--services", "10"]) == 2
    err = capsys.readouterr().err
    assert "no benchmark --services" in err and "growth" in err

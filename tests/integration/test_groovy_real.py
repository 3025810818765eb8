"""Real Groovy 2.4.21 loads every env.groovy we write: each value comes back exactly, nothing runs.

One Groovy process checks a whole batch of files (start-up costs ~0.6 s), so a corpus of hundreds
of hostile values costs a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pipelinelib.formats import groovy as env_groovy
from pipelinelib.model import ServiceBuild, clean_text
from pipelinelib.textfit import GROOVY_CONSTANT_BYTES, fit_groovy_constant, modified_utf8_length
from tests.conftest import Groovy
from tests.fakes.hostile import MARKER, corpus

pytestmark = pytest.mark.groovy


def _write_corpus(values: list[str], where: Path) -> dict[Path, str]:
    expected: dict[Path, str] = {}
    for index, value in enumerate(values):
        build = ServiceBuild(
            name="service1",
            build=index + 1,
            image=f"999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1:{index + 1}",
            commit="5f1c" + "0" * 36,
            commit_message=value,
        )
        path = where / f"case{index:04d}.env.groovy"
        path.write_text(env_groovy.render_env_groovy([build]), encoding="ascii")
        expected[path] = build.commit_message or ""
    return expected  # the whole message, as manifest.json keeps it


def _assert_loaded_exactly(groovy_tool: Groovy, values: list[str], tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    expected = _write_corpus(values, files)
    loaded = groovy_tool.load_env_files(list(expected), cwd=tmp_path)
    for path, value in expected.items():
        env = loaded[path]
        assert env["SERVICE1_COMMIT_MSG"] == value, path
        assert env["SERVICE1_BUILD"] == str(int(path.stem[4:8]) + 1)
        assert env["SERVICE1_SERVICE"] == "service1"
        assert set(env) == {
            "SERVICE1_BUILD",
            "SERVICE1_IMAGE",
            "SERVICE1_COMMIT",
            "SERVICE1_COMMIT_MSG",
            "SERVICE1_SERVICE",
        }
    leftovers = [p.name for p in tmp_path.rglob(f"{MARKER}*")]
    assert leftovers == [], "a value was executed by Groovy"
    assert not list(Path("/tmp").glob(f"{MARKER}*"))


def test_hand_written_hostile_corpus_loads_byte_for_byte(groovy: Groovy, tmp_path: Path) -> None:
    values = [clean_text(v) for v in corpus()]
    assert len(values) >= 200
    _assert_loaded_exactly(groovy, values, tmp_path)


def test_hypothesis_generated_corpus_loads_byte_for_byte(groovy: Groovy, tmp_path: Path) -> None:
    generated: list[str] = []
    alphabet = st.one_of(
        st.characters(codec=None),
        st.sampled_from(["'", "\\", '"', "$", "{", "}", "u", "0", "2", "7", "\n", "\r", "\x00"]),
    )

    @settings(
        max_examples=250,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.text(alphabet=alphabet, max_size=80))
    def collect(value: str) -> None:
        generated.append(clean_text(value))

    collect()
    assert len(generated) >= 200
    _assert_loaded_exactly(groovy, generated, tmp_path)


def test_legacy_files_and_leading_digit_names_load_in_groovy(
    groovy: Groovy, tmp_path: Path
) -> None:
    a = tmp_path / "a.env.groovy"
    a.write_text(env_groovy.render_env_groovy([ServiceBuild(name="1svc", build=3)]))
    b = tmp_path / "b.env.groovy"
    b.write_text('env.SERVICE1_BUILD=90\nenv.SERVICE1_COMMIT_MSG="Fix login"\n')
    loaded = groovy.load_env_files([a, b], cwd=tmp_path)
    assert loaded[a] == {"1SVC_BUILD": "3", "1SVC_SERVICE": "1svc"}
    assert (
        loaded[b]
        == env_groovy.parse_env_groovy(b.read_text())
        == {
            "SERVICE1_BUILD": "90",
            "SERVICE1_COMMIT_MSG": "Fix login",
        }
    )


# --- the Groovy string constant limit (65,535 bytes of modified UTF-8, JVM spec §4.4.7) ---------

ROCKET = "\U0001f680"  # supplementary: two UTF-16 units, 6 bytes of modified UTF-8


def _at_the_limit() -> list[str]:
    """Values at, and just over, the limit in each kind of character Groovy counts differently."""
    limit = GROOVY_CONSTANT_BYTES
    return [
        "a" * limit,  # 1 byte each: exactly at the limit
        "a" * (limit + 1),
        "é" * 32_767 + "a",  # 2 bytes each: 65,535
        "é" * 32_768,  # the field report: 32,768 characters, 65,536 bytes
        "\u20ac" * 21_845,  # 3 bytes each: 65,535
        "\u20ac" * 21_846,
        ROCKET * 10_922 + "abc",  # 6 bytes each: 65,532 + 3
        ROCKET * 10_923,
        "\0" * 32_767 + "a",  # NUL is 2 bytes (C0 80) in modified UTF-8
        "\0" * 32_768,
        "x" * 71_524,  # the other field report
        ("Fix 'login' ${x} \\u0027 é€" + ROCKET + "\n") * 3_000,  # mixed and hostile
    ]


def test_values_at_and_over_the_constant_limit_load_intact_or_cut_as_documented(
    groovy: Groovy, tmp_path: Path
) -> None:
    values = _at_the_limit()
    files = tmp_path / "files"
    files.mkdir()
    expected = _write_corpus(values, files)
    loaded = groovy.load_env_files(list(expected), cwd=tmp_path)
    cut = 0
    for (path, written), original in zip(expected.items(), values, strict=True):
        got = loaded[path]["SERVICE1_COMMIT_MSG"]
        assert modified_utf8_length(got) <= GROOVY_CONSTANT_BYTES
        if modified_utf8_length(original) <= GROOVY_CONSTANT_BYTES:
            assert got == original, path  # at the limit: whole
        else:
            cut += 1
            assert got == fit_groovy_constant(original), path
            shown = got.rsplit("\n[... cut by pipelinelib: ", 1)[0]
            assert original.startswith(shown)
            assert got.endswith("characters shown; the whole text is in manifest.json]")
        assert written == original  # the manifest keeps the whole text
    assert cut == 7


def test_the_limit_is_real_groovy_refuses_a_longer_constant(groovy: Groovy, tmp_path: Path) -> None:
    """Control: written without the cut, the field report's file does not load in Groovy."""
    path = tmp_path / "raw.env.groovy"
    path.write_text("env.SERVICE1_COMMIT_MSG = " + env_groovy.quote("é" * 32_768) + "\n")
    with pytest.raises(AssertionError, match="too large"):
        groovy.load_env_files([path], cwd=tmp_path)

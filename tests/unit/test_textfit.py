"""Long commit messages and display names: every consumer gets a copy it can hold, marked when cut."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelinelib import pipeline
from pipelinelib.formats import groovy
from pipelinelib.formats import manifest as manifest_json
from pipelinelib.model import MAX_TEXT, ServiceBuild, subject_of
from pipelinelib.textfit import (
    CHOICE_SUBJECT_CHARS,
    DISPLAY_NAME_FORM_BYTES,
    GROOVY_CONSTANT_BYTES,
    MAX_ARG_STRLEN,
    display_name_form_bytes,
    fit_argument,
    fit_display_name,
    fit_environment_value,
    fit_groovy_constant,
    fit_subject,
    modified_utf8_length,
    utf8_length,
)
from tests.conftest import CliRunner

ROCKET = "\U0001f680"


def _modified_utf8_by_java_rules(text: str) -> int:
    """Independent count: encode each UTF-16 unit as the JVM does (JVM spec §4.4.7)."""
    units = text.encode("utf-16-be", "surrogatepass")
    total = 0
    for i in range(0, len(units), 2):
        unit = int.from_bytes(units[i : i + 2], "big")
        total += 1 if 0 < unit < 0x80 else 2 if unit < 0x800 else 3
    return total


@pytest.mark.parametrize(
    "text", ["", "abc", "\0", "é", "\u20ac", ROCKET, "a\0é\u20ac" + ROCKET * 3, "\uffef"]
)
def test_modified_utf8_length_counts_like_the_jvm(text: str) -> None:
    assert modified_utf8_length(text) == _modified_utf8_by_java_rules(text)


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("a" * GROOVY_CONSTANT_BYTES, False),  # exactly at the limit: whole
        ("a" * (GROOVY_CONSTANT_BYTES + 1), True),
        ("é" * 32_767 + "a", False),  # 65,535 bytes
        ("é" * 32_768, True),  # the field report: 32,768 characters, 65,536 bytes
        ("\u20ac" * 21_845, False),  # 65,535 bytes of 3-byte characters
        ("\u20ac" * 21_846, True),
        (ROCKET * 10_922, False),  # 65,532 bytes: supplementary characters take 6
        (ROCKET * 10_923, True),
        ("\0" * 40_000, True),  # NUL takes 2 bytes in modified UTF-8
        ("x" * 71_524, True),
    ],
)
def test_groovy_constants_are_cut_to_65535_modified_utf8_bytes_with_a_marker(
    text: str, cut: bool
) -> None:
    fitted = fit_groovy_constant(text)
    assert modified_utf8_length(fitted) <= GROOVY_CONSTANT_BYTES
    if not cut:
        assert fitted == text
        return
    shown, marker = fitted.rsplit("\n[... cut by pipelinelib: ", 1)
    assert text.startswith(shown)
    assert marker == (
        f"{len(shown):,} of {len(text):,} characters shown; the whole text is in manifest.json]"
    )
    # As long as possible: one more character would not fit.
    longer = fit_groovy_constant(text[: len(shown) + 1] + text[len(shown) + 1 :])
    assert len(longer) == len(fitted)


def test_a_cut_never_splits_a_supplementary_character() -> None:
    fitted = fit_groovy_constant("a" + ROCKET * 20_000)
    fitted.encode("utf-8")  # raises on a lone surrogate
    assert fitted.split("\n")[0].strip("a").strip(ROCKET) == ""


def test_environment_values_and_arguments_fit_linux_max_arg_strlen() -> None:
    text = "é" * 100_000  # 200,000 bytes of UTF-8
    value = fit_environment_value("SERVICE1_COMMIT_MSG", text)
    assert utf8_length("SERVICE1_COMMIT_MSG=" + value) + 1 <= MAX_ARG_STRLEN
    assert utf8_length("SERVICE1_COMMIT_MSG=" + value) + 1 > MAX_ARG_STRLEN - 200
    assert "cut by pipelinelib" in value
    assert utf8_length(fit_argument(text)) + 1 <= MAX_ARG_STRLEN
    assert fit_argument("short") == "short"


def test_display_names_fit_the_jenkins_form_and_choice_subjects_120_characters() -> None:
    name = fit_display_name("x" * 71_525)
    assert display_name_form_bytes(name) <= DISPLAY_NAME_FORM_BYTES
    assert name.endswith("the whole text is in manifest.json]")
    assert fit_display_name("Fix login") == "Fix login"
    long_line = "word " * 60
    assert len(fit_subject(long_line)) == CHOICE_SUBJECT_CHARS
    assert fit_subject(long_line).endswith("\u2026")
    assert subject_of("y" * 500, 7) == "y" * 119 + "\u2026"
    assert subject_of("y" * 120, 7) == "y" * 120


def test_env_groovy_cuts_the_commit_message_and_the_manifest_keeps_it_whole(
    tmp_path: Path,
) -> None:
    message = "é" * 32_768
    result = pipeline.publish_artifact(
        service="service1",
        build=90,
        job="service1-build",
        output_dir=tmp_path,
        commit="5f1c0de",
        message=message,
    )
    variables = groovy.parse_env_groovy(result.env_file.read_text())
    assert modified_utf8_length(variables["SERVICE1_COMMIT_MSG"]) <= GROOVY_CONSTANT_BYTES
    assert "cut by pipelinelib" in variables["SERVICE1_COMMIT_MSG"]
    assert manifest_json.read(result.manifest_file).services["service1"].commit_message == message


def test_render_refuses_an_unfitted_value_rather_than_write_an_unloadable_file() -> None:
    with pytest.raises(Exception, match="Groovy string constant"):
        groovy.render_assignment("X", "é" * 32_768)


def test_a_message_longer_than_the_store_keeps_is_cut_not_refused(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    message = "line\n" * (MAX_TEXT // 5 + 100)
    result = run_cli(
        [
            "publish-artifact",
            "--service=service1",
            "--build=90",
            "--job=service1-build",
            "--commit=5f1c0de",
            f"--message={message}",
            f"--db=sqlite:///{tmp_path}/s.db",
            f"--output-dir={tmp_path / 'output'}",
        ],
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads((tmp_path / "output" / "service1.manifest.json").read_text())
    kept = data["services"]["service1"]["commit_message"]
    assert len(kept) <= MAX_TEXT
    assert kept.endswith("the whole text is in manifest.json]") or "cut by pipelinelib" in kept


def test_a_71524_character_message_publishes_and_registers(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    message = "Fix login\n\n" + "d" * 71_513
    assert len(message) == 71_524
    db = f"sqlite:///{tmp_path}/s.db"
    result = run_cli(
        [
            "publish-artifact",
            "--service=service1",
            "--build=90",
            "--job=service1-build",
            "--commit=5f1c0de",
            f"--message={message}",
            f"--db={db}",
            f"--output-dir={tmp_path / 'output'}",
        ],
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads((tmp_path / "output" / "service1.manifest.json").read_text())
    assert data["services"]["service1"]["commit_message"] == message
    listed = run_cli(["list-builds", "--job=service1-build", f"--db={db}"], cwd=tmp_path)
    assert listed.stdout.strip() == "90-Fix login"


def test_set_display_name_print_shows_the_cut_name(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli(["set-display-name", "--print", "--name", "z" * 71_525])
    assert result.exit_code == 0, result.stderr
    printed = result.stdout.rstrip("\n")
    assert len(printed) < 71_525
    assert display_name_form_bytes(printed) <= DISPLAY_NAME_FORM_BYTES
    assert printed.endswith("of 71,525 characters shown; the whole text is in manifest.json]")


def test_service_build_keeps_the_whole_message() -> None:
    entry = ServiceBuild(name="s", build=1, commit_message="m" * 100_000)
    assert entry.commit_message is not None and len(entry.commit_message) == 100_000


def test_a_non_ascii_display_name_is_cut_by_the_form_limit_too() -> None:
    # 'é' * 32,767 fits a Groovy constant (65,534 bytes) but its configSubmit form would be
    # 262,000+ bytes (JSON \\u00e9, URL-encoded): the form limit cuts it further.
    text = "é" * 32_767
    assert modified_utf8_length(fit_groovy_constant(text)) <= GROOVY_CONSTANT_BYTES
    name = fit_display_name(text)
    assert display_name_form_bytes(name) <= DISPLAY_NAME_FORM_BYTES
    assert display_name_form_bytes(name) > DISPLAY_NAME_FORM_BYTES - 200
    assert name.endswith(f"of {len(text):,} characters shown; the whole text is in manifest.json]")


def test_a_subject_drops_exactly_the_unicode_control_characters() -> None:
    """subject_of removes category Cc with a regular expression (the board renders thousands of
    subjects); it must be the same set as unicodedata's, code point by code point."""
    import sys
    import unicodedata

    from pipelinelib.model import CONTROL_CHARACTERS

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        matched = CONTROL_CHARACTERS.fullmatch(char) is not None
        assert matched == (unicodedata.category(char) == "Cc"), hex(code)
    assert subject_of("a\x1b[31mred\x9b tab\there\u200b", 7) == "a[31mred tabhere\u200b"

"""env.groovy in Python: what we write reads back to the same value, and reading never evaluates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelinelib.errors import ArtifactFormatError
from pipelinelib.formats import groovy
from pipelinelib.model import ServiceBuild, clean_text
from tests.fakes.hostile import corpus


def _round_trip(value: str) -> str:
    return groovy.parse_env_groovy(groovy.render_assignment("SERVICE1_COMMIT_MSG", value))[
        "SERVICE1_COMMIT_MSG"
    ]


@pytest.mark.parametrize("value", [clean_text(v) for v in corpus()])
def test_hostile_values_round_trip_through_the_reader(value: str) -> None:
    assert _round_trip(value) == value


@given(st.text().map(clean_text))
def test_any_clean_text_round_trips(value: str) -> None:
    assert _round_trip(value) == value


@given(st.text().map(clean_text))
def test_written_files_are_ascii_single_line_literals(value: str) -> None:
    line = groovy.render_assignment("X", value)
    assert line.isascii()
    assert line.count("\n") == 1 and line.endswith("\n")
    assert "\r" not in line
    assert line.startswith("env.X = '") and line.endswith("'\n")


def test_a_quote_is_never_written_as_a_unicode_escape() -> None:
    # Groovy decodes \u0027 before lexing: it would close the literal.
    assert groovy.quote("'") == "'\\''"
    assert groovy.quote("\n") == "'\\n'"
    assert groovy.quote("\\") == "'\\\\'"


def test_values_no_literal_can_carry_are_refused_by_the_codec() -> None:
    with pytest.raises(ArtifactFormatError):
        groovy.quote("\uffff")
    with pytest.raises(ArtifactFormatError):
        groovy.quote("\ud800")


def test_the_model_replaces_lone_surrogates_and_uffff_with_the_replacement_character() -> None:
    build = ServiceBuild(name="s", build=1, commit_message="a\ud800b\uffffc")
    assert build.commit_message == "a\ufffdb\ufffdc"


def test_service_variables_and_leading_digit_names() -> None:
    text = groovy.render_env_groovy([ServiceBuild(name="1svc", build=7, image="r/1svc:7")])
    assert "env.'1SVC_BUILD' = '7'" in text
    assert groovy.parse_env_groovy(text) == {
        "1SVC_BUILD": "7",
        "1SVC_IMAGE": "r/1svc:7",
        "1SVC_SERVICE": "1svc",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("env.SERVICE1_BUILD=90", {"SERVICE1_BUILD": "90"}),
        ("env.SERVICE1_BUILD = 90\n", {"SERVICE1_BUILD": "90"}),
        (
            "env.SERVICE1_BUILD=90;env.SERVICE2_BUILD=12\r\n",
            {"SERVICE1_BUILD": "90", "SERVICE2_BUILD": "12"},
        ),
        ('env.SERVICE1_COMMIT_MSG="Fix login"', {"SERVICE1_COMMIT_MSG": "Fix login"}),
        (
            'env.SERVICE1_COMMIT_MSG = "keeps ${x} literally"',
            {"SERVICE1_COMMIT_MSG": "keeps ${x} literally"},
        ),
        ("// comment\n/* block */ env.A = 'x' // trailing\n", {"A": "x"}),
        ("\ufeffenv.A='x'", {"A": "x"}),
    ],
)
def test_legacy_forms_are_read(text: str, expected: dict[str, str]) -> None:
    assert groovy.parse_env_groovy(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("env.A = foo()", "expected a quoted string or a number"),
        ("env.A = BUILD_NUMBER", "expected a quoted string or a number"),
        ("println 'x'", "expected 'env.'"),
        ("env.A = 'x' + 'y'", "expected the end of the statement"),
        ("env.A = 'unterminated", "unterminated string"),
        ("env.A = 'line\nbreak'", "line break inside a string"),
        ("env.A = '''triple'''", "triple-quoted"),
        ("env.A = '\\q'", "unsupported escape"),
        ("env.A = '\\u0027'", "triple-quoted"),
        ("env.A = 'x'\nSystem.exit(1)", "expected 'env.'"),
    ],
)
def test_anything_but_assignments_of_literals_is_refused(text: str, message: str) -> None:
    with pytest.raises(ArtifactFormatError, match=message):
        groovy.parse_env_groovy(text, "import/service1.env.groovy")


def test_errors_name_the_file_and_line() -> None:
    with pytest.raises(ArtifactFormatError, match=r"^import/s\.env\.groovy:3: "):
        groovy.parse_env_groovy("env.A='1'\n\nenv.B = nope\n", "import/s.env.groovy")

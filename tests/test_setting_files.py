"""Files `serve`'s settings name: a FIFO, a folder or unreadable JSON is one line naming it, exit 2.

Never a hang (a FIFO blocks whoever opens it to read) and never a traceback.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.test_settings import run_cli


def refused(*args: str) -> subprocess.CompletedProcess[str]:
    """`serve ARGS` as a user runs it, asserting it stops at once with exit status 2 and nothing else."""
    result = run_cli("serve", "--port", "0", *args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result


def fifo(path: Path) -> Path:
    """A named pipe no one writes to: opening it to read would wait forever."""
    os.mkfifo(path)
    return path


def persons_folder(path: Path) -> Path:
    """A folder of person fixtures holding one valid person."""
    path.mkdir()
    source = sorted((Path(__file__).parent.parent / "fixtures" / "persons").glob("*.json"))[0]
    (path / "one.json").write_bytes(source.read_bytes())
    return path


@pytest.mark.parametrize("flag", ["--keys", "--scrub-key-file"])
def test_a_fifo_given_as_a_file_setting_is_refused_not_waited_on(tmp_path: Path, flag: str) -> None:
    pipe = fifo(tmp_path / "pipe")
    result = refused("--fixtures", str(persons_folder(tmp_path / "persons")), flag, str(pipe))
    assert result.stderr == f"fakeapollo: cannot start: {pipe}: not a regular file\n"


def test_a_fifo_given_as_the_admin_token_file_is_refused_not_waited_on(tmp_path: Path) -> None:
    pipe = fifo(tmp_path / "pipe")
    result = refused("--admin-token-file", str(pipe))
    assert result.stderr == f"fakeapollo serve: --admin-token-file {pipe}: not a regular file\n"


def test_a_fifo_among_the_person_fixtures_is_refused_not_waited_on(tmp_path: Path) -> None:
    folder = persons_folder(tmp_path / "persons")
    pipe = fifo(folder / "two.json")
    result = refused("--fixtures", str(folder))
    assert result.stderr == f"fakeapollo: cannot start: {pipe.resolve()}: not a regular file\n"


def test_a_folder_given_as_the_keys_file_is_refused(tmp_path: Path) -> None:
    result = refused("--keys", str(tmp_path))
    assert result.stderr == f"fakeapollo: cannot start: {tmp_path}: not a regular file\n"


UNREADABLE = {
    "nested_100000_deep": (b'{"keys":' + b"[" * 100_000, "not valid JSON: nested too deeply to read"),
    "invalid_utf8": (b'{"keys": [{"key": "\xff\xfe"}]}', "not UTF-8 text (byte 19: invalid start byte)"),
    "integer_of_5001_digits": (
        b'{"keys": [{"credits": ' + b"9" * 5001 + b"}]}",
        "not valid JSON: it holds an integer longer than 4,300 digits",
    ),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_a_keys_file_json_cannot_read_is_one_line_naming_it(tmp_path: Path, case: str) -> None:
    content, problem = UNREADABLE[case]
    path = tmp_path / "keys.json"
    path.write_bytes(content)
    result = refused("--keys", str(path))
    assert result.stderr == f"fakeapollo: cannot start: {path}: {problem}\n"


@pytest.mark.parametrize("case", ["nested_100000_deep", "invalid_utf8", "integer_of_5001_digits"])
def test_a_person_fixture_json_cannot_read_is_one_line_naming_it(tmp_path: Path, case: str) -> None:
    content, problem = UNREADABLE[case]
    folder = persons_folder(tmp_path / "persons")
    (folder / "two.json").write_bytes(content)
    result = refused("--fixtures", str(folder))
    assert result.stderr == f"fakeapollo: cannot start: {(folder / 'two.json').resolve()}: {problem}\n"

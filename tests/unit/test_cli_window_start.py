"""A window start reads its command line without building the commands' parsers, and reads
it exactly as the full parser does; anything else is left to the full parser."""

from __future__ import annotations

import sys

import pytest

from lowdash_desktop import cli

WINDOW_STARTS = [
    [],
    ["--demo"],
    ["--demo", "--generations", "5000", "--seed", "3"],
    ["--base-url", "https://api.lowrouter.example/v1"],
    ["--base-url=https://api.lowrouter.example/v1", "--minimized"],
    ["--data-dir", "/tmp/lowdash data", "--screenshot", "out.png"],
    ["--base", "https://api.lowrouter.example/v1", "--min"],  # abbreviations, as argparse allows
    ["--data-dir", "sync"],  # a command's name as an option's value
]

NOT_WINDOW_STARTS = [
    ["sync", "--base-url", "https://api.lowrouter.example/v1"],
    ["--data-dir", "/tmp/x", "export", "csv", "out.csv"],
    ["eco"],
    ["--help"],
    ["-h"],
    ["--version"],
    ["--vers"],
    ["--demo", "--generations", "5"],  # out of range: the full parser says so
    ["--bogus"],
    ["foo"],
    ["--", "sync"],
]


@pytest.mark.parametrize("argv", WINDOW_STARTS, ids=" ".join)
def test_a_window_start_is_read_as_the_full_parser_reads_it(argv):
    short = cli._parse_window_start(argv)
    assert short is not None
    assert vars(short) == vars(cli.build_parser().parse_args(argv))
    assert short.command is None


@pytest.mark.parametrize("argv", NOT_WINDOW_STARTS, ids=" ".join)
def test_commands_help_and_mistakes_go_to_the_full_parser(argv, capsys):
    assert cli._parse_window_start(argv) is None
    assert capsys.readouterr() == ("", "")  # nothing said: the full parser answers


def test_the_full_parser_still_answers_help_version_and_mistakes(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"lowdash {cli.__version__}"
    assert cli.main(["--help"]) == 0
    assert "{sync,demo-server,export,eco,report,metrics}" in capsys.readouterr().out
    assert cli.main(["--demo", "--generations", "5"]) == cli.EXIT_USAGE
    assert "--generations: must be from 100 to 1,000,000" in capsys.readouterr().err
    assert cli.main(["foo"]) == cli.EXIT_USAGE
    assert "invalid choice: 'foo'" in capsys.readouterr().err


def test_a_window_start_loads_no_command_module():
    import subprocess

    code = (
        "import sys\n"
        "from lowdash_desktop import cli\n"
        "args = cli._parse_window_start(['--demo'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('lowdash_desktop.')\n"
        "             and m.split('.')[1] in ('export', 'eco', 'insight')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"

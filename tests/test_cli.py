"""The command line itself (release/cli.py on argparse): the usage-error contract, help and
version, how option values are read, and that a command imports only its own module."""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from release.cli import COMMAND_MODULES, SETTING_FLAGS
from release.commands.common import Command
from tests.charts import DEMO
from tests.conftest import CliResult
from tests.gitutil import GitBuilder


@pytest.fixture
def demo(gitrepo: GitBuilder) -> GitBuilder:
    gitrepo.commit("feat: demo chart", dict(DEMO))
    gitrepo.tag("v1.2.3", annotated=True)
    return gitrepo


def usage_error(result: CliResult, command: str = "") -> str:
    """The message of a usage error, after checking its form: one line, exit 2, no usage block."""
    prog = f"ameide-release {command}".strip()
    assert result.code == 2, result
    assert result.out == "" and result.err.count("\n") == 1, result
    assert result.err.startswith("error: ") and "usage:" not in result.err.lower(), result
    assert result.err.endswith(f": see `{prog} --help`\n"), result
    assert "Traceback" not in result.err
    return result.err.removeprefix("error: ").removesuffix(f": see `{prog} --help`\n")


@pytest.mark.parametrize(("argv", "command", "needle"), [
    (["--bogus", "config"], "", "unrecognized arguments: --bogus"),
    (["notes", "--bogus"], "notes", "unrecognized arguments: --bogus"),
    (["notes", "--unrel"], "notes", "unrecognized arguments: --unrel"),  # no abbreviations
    (["notes", "--unreleased=yes"], "notes", "--unreleased: ignored explicit argument 'yes'"),
    (["config", "extra"], "config", "unrecognized arguments: 1 value (not shown)"),
    (["notes", "--tag"], "notes", "argument --tag: expected one argument"),
    (["--chart"], "", "argument --chart: expected one argument"),
    (["notes", "--format", "xml"], "notes",
     "argument --format: invalid choice: 'xml' (choose from 'md', 'json')"),
    (["publish", "--channel", "nightly"], "publish", "invalid choice: 'nightly'"),
    (["nosuch"], "", "no such command 'nosuch'"),
    (["--tag", "v1.2.3", "notes"], "", "unrecognized arguments: --tag"),
    (["--chart", "x"], "", "missing command"),
    (["image-tags", "--ref", "dev"], "image-tags", "the following arguments are required: --sha"),
    (["index", "--tag", "v1.2.3"], "index", "required: --index-dir"),
    # `--` as an option's value is no value (argparse would make it an empty list)
    (["notes", "--tag", "--"], "notes", "argument --tag: expected one argument"),
    (["--chart", "--", "config"], "", "argument --chart: expected one argument"),
    (["notes", "--format", "--"], "notes", "argument --format: expected one argument"),
])
def test_every_usage_error_is_one_line_and_exit_2(tmp_path: Path, argv: list[str], command: str,
                                                  needle: str,
                                                  cli: Callable[..., CliResult]) -> None:
    assert needle in usage_error(cli("--repo", str(tmp_path), *argv), command)


def test_no_arguments_print_the_help_as_an_error(cli: Callable[..., CliResult]) -> None:
    result = cli()
    assert result.code == 2 and result.out == ""  # as click did: the help on stderr, exit 2
    assert result.err.startswith("usage: ameide-release [OPTIONS] COMMAND [ARGS]...")
    assert "commands:" in result.err and "Traceback" not in result.err


def test_a_usage_error_in_github_actions_is_also_an_annotation(
        tmp_path: Path, cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = cli("--repo", str(tmp_path), "notes", "--format", "xml")
    assert result.code == 2 and result.err.count("\n") == 1
    assert result.out.startswith("::error") and "invalid choice" in result.out


def test_version(cli: Callable[..., CliResult]) -> None:
    assert (cli("--version").code, cli("--version").out) == (0, "ameide-release 0.1.0\n")


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_top_level_help_lists_global_options_and_commands(flag: str,
                                                          cli: Callable[..., CliResult]) -> None:
    result = cli(flag)
    assert result.code == 0 and result.err == ""
    assert result.out.startswith("usage: ameide-release [OPTIONS] COMMAND [ARGS]...")
    for option in ["--repo", "--version", *(f"--{key}" for key in SETTING_FLAGS)]:
        assert f"  {option} " in result.out, option
    commands = result.out.split("\ncommands:\n")[1]
    listed = [line.split()[0] for line in commands.splitlines() if line[2:3] not in ("", " ")]
    assert listed == sorted(COMMAND_MODULES)
    assert "Print one release's notes from conventional commits." in commands


def test_help_wins_over_what_follows(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    result = cli("--repo", str(tmp_path), "-h", "notes", "--bogus")
    assert result.code == 0 and result.out.startswith("usage: ameide-release [OPTIONS]")


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_command_help_lists_its_options(flag: str, cli: Callable[..., CliResult]) -> None:
    result = cli("notes", flag)
    assert result.code == 0 and result.err == ""
    assert result.out.startswith("usage: ameide-release notes ")
    assert "Print one release's notes from conventional commits." in result.out
    for option in ("--tag TAG", "--unreleased", "--format {md,json}", "--all-paths",
                   "--since-prerelease", "--artifacthub", "--github"):
        assert option in result.out, option


@pytest.mark.parametrize("name", sorted(COMMAND_MODULES))
def test_every_command_has_help(name: str, cli: Callable[..., CliResult]) -> None:
    result = cli(name, "--help")
    assert result.code == 0 and result.out.startswith(f"usage: ameide-release {name} ")


class _Recorder(argparse.ArgumentParser):
    def __init__(self) -> None:
        self.dests: set[str] = set()
        super().__init__(add_help=False)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        self.dests.add(action.dest)
        return action


@pytest.mark.parametrize("name", sorted(COMMAND_MODULES))
def test_each_command_declares_exactly_its_function_parameters(name: str) -> None:
    """The parsed options are the function's keyword arguments: a destination without its
    parameter (or the reverse) would fail only when that command runs."""
    from importlib import import_module

    module = import_module(f"release.commands.{COMMAND_MODULES[name]}")
    command: Command = module.COMMANDS[name]
    parser = _Recorder()
    command.options(parser)
    params = inspect.signature(command.run).parameters
    assert [p.kind for p in params.values()][:1] == [inspect.Parameter.POSITIONAL_OR_KEYWORD]
    keywords = {n for n, p in params.items() if p.kind == inspect.Parameter.KEYWORD_ONLY}
    assert parser.dests == keywords


def test_the_command_table_matches_the_modules() -> None:
    from importlib import import_module

    for module_name in set(COMMAND_MODULES.values()):
        module = import_module(f"release.commands.{module_name}")
        assert set(module.COMMANDS) == {n for n, m in COMMAND_MODULES.items() if m == module_name}


def test_a_repeatable_option_keeps_every_value(demo: GitBuilder,
                                               cli: Callable[..., CliResult]) -> None:
    first = demo.commit("fix: one", {"chart/values.yaml": "replicas: 2\n"})
    second = demo.commit("fix: two", {"chart/values.yaml": "replicas: 3\n"})
    result = cli("--repo", str(demo.root), "hotfix", "--from", "v1.2.3", "--pick", first,
                 "--pick", second)
    assert result.code == 0, result
    assert "2 picked" in result.err
    assert demo.git("log", "--format=%s", "-2", "v1.2.4^").split("\n")[:2] == ["fix: two",
                                                                                "fix: one"]


def test_global_options_after_the_command_are_refused(tmp_path: Path,
                                                      cli: Callable[..., CliResult]) -> None:
    """As with click: global options go before the command; after it they are unknown."""
    msg = usage_error(cli("notes", "--repo", str(tmp_path)), "notes")
    assert msg == "unrecognized arguments: --repo and 1 value (not shown)"  # the value may be a secret
    assert "--chart" in usage_error(cli("--repo", str(tmp_path), "config", "--chart", "x"),
                                    "config")


def test_the_last_of_a_repeated_option_wins(demo: GitBuilder,
                                            cli: Callable[..., CliResult]) -> None:
    result = cli("--repo", "/nonexistent", "--repo", str(demo.root), "notes", "--tag", "v0.0.1",
                 "--tag", "v1.2.3")
    assert result.code == 0 and result.out.startswith("## 1.2.3 ("), result


@pytest.mark.parametrize(("argv", "tag"), [
    (["--tag", "--unreleased"], "--unreleased"),  # the tag "--unreleased", not the flag
    (["--tag", "-x"], "-x"),
    (["--tag=-x"], "-x"),
    (["--tag", "-h"], "-h"),  # a value, not the help
])
def test_the_argument_after_an_option_is_its_value(demo: GitBuilder, argv: list[str], tag: str,
                                                   cli: Callable[..., CliResult]) -> None:
    result = cli("--repo", str(demo.root), "notes", *argv)
    assert result.code == 2 and result.err.count("\n") == 1, result
    assert result.err.startswith(f"error: tag {tag!r} is not a release tag"), result


def test_a_global_value_that_looks_like_a_command_or_option(demo: GitBuilder,
                                                            cli: Callable[..., CliResult]) -> None:
    refused = cli("--repo", str(demo.root), "--tag-prefix", "--x", "config")
    assert refused.code == 2 and refused.err.startswith("error: tag-prefix '--x' cannot start")
    result = cli("--repo", str(demo.root), "--chart", "notes", "config", "--json")
    assert result.code == 0 and json.loads(result.out)["chart"]["value"] == "notes"


def test_double_dash_ends_the_global_options(demo: GitBuilder,
                                             cli: Callable[..., CliResult]) -> None:
    assert cli("--repo", str(demo.root), "--", "notes", "--tag", "v1.2.3").code == 0
    assert cli("--repo", str(demo.root), "notes", "--tag", "v1.2.3", "--").code == 0
    assert "unrecognized arguments: 1 value (not shown)" in usage_error(
        cli("--repo", str(demo.root), "notes", "--", "x"), "notes")


_SHOW_MODULES = """
import sys
from release.cli import main
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code or 0
print("exit", code)
print(" ".join(sorted(sys.modules)))
"""
_HEAVY = {"click", "httpx", "jinja2", "ruamel", "yaml", "rich", "helm_python", "git"}


def modules_after(*argv: str, code: int = 0) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", _SHOW_MODULES, *argv], capture_output=True,
                          text=True, check=True)
    *_, exit_line, modules = proc.stdout.splitlines()
    assert exit_line == f"exit {code}", proc
    return set(modules.split())


def test_command_help_imports_only_its_command_module() -> None:
    loaded = modules_after("notes", "--help")
    assert {m for m in loaded if m.split(".")[0] in _HEAVY} == set()
    assert {m for m in loaded if m.startswith("release.commands.")} == {
        "release.commands.common", "release.commands.notes"}


def test_parsing_a_command_imports_nothing_but_its_module() -> None:
    """What the command line layer costs `notes` before notes itself runs: argparse, no
    tempfile, json or shutil (argparse measures the terminal only to print help)."""
    loaded = modules_after("notes", "--format", "xml", code=2)
    assert {m for m in loaded if m.startswith("release.")} == {
        "release.cli", "release.commands", "release.commands.common", "release.commands.notes",
        "release.errors"}
    assert {"json", "tempfile", "shutil", "click", "dataclasses"}.isdisjoint(loaded)


def test_top_level_help_imports_nothing_heavy() -> None:
    loaded = modules_after("--help")
    assert {m for m in loaded if m.split(".")[0] in _HEAVY} == set()
    assert {"json", "tempfile"}.isdisjoint(loaded)


def test_notes_imports_only_what_notes_needs(demo: GitBuilder) -> None:
    loaded = modules_after("--repo", str(demo.root), "notes", "--tag", "v1.2.3")
    assert {m for m in loaded if m.startswith("release.commands.")} == {
        "release.commands.common", "release.commands.notes"}
    assert {m for m in loaded if m.split(".")[0] in _HEAVY} == set()
    assert not any(m.startswith(("release.steps", "release.oci.client", "release.executor"))
                   for m in loaded)


def test_an_unknown_option_s_value_is_not_repeated(tmp_path: Path,
                                                   cli: Callable[..., CliResult]) -> None:
    """A mistyped option may carry a token: the error names the option, never its value."""
    for argv in (["push", "--password", "hunter2-SECRET"], ["push", "--password=hunter2-SECRET"],
                 ["config", "hunter2-SECRET"]):
        message = usage_error(cli("--repo", str(tmp_path), *argv), argv[0])
        assert "hunter2" not in message, message
    assert usage_error(cli("--repo", str(tmp_path), "push", "--password", "x"), "push") == (
        "unrecognized arguments: --password and 1 value (not shown)")


def test_top_level_help_on_a_very_narrow_terminal(cli: Callable[..., CliResult],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "2")
    result = cli("--help")
    assert result.code == 0 and "notes" in result.out, result


def test_what_git_and_the_environment_say_reaches_the_terminal_without_escapes(
        demo: GitBuilder, cli: Callable[..., CliResult]) -> None:
    """A commit subject in dry-run's plan, a setting's value in `config`: no terminal escape."""
    demo.commit("feat: evil \x1b]0;PWNED\x07 \x1b[2J", {"chart/values.yaml": "b: 2\n"})
    planned = cli("--repo", str(demo.root), "dry-run")
    assert planned.code == 0, planned
    shown = cli("--repo", str(demo.root), "--github-api", "https://x\x1b[31m.example", "config")
    for result in (planned, shown):
        assert not any(c in result.out + result.err for c in "\x1b\x07"), repr(result.out)


def test_an_internal_error_is_one_line_without_escapes(tmp_path: Path,
                                                       cli: Callable[..., CliResult],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from release.commands import basic

    def broken(state: object, **options: object) -> None:
        raise ValueError("first\nsecond \x1b[2J")

    monkeypatch.setitem(basic.COMMANDS, "config", basic.COMMANDS["config"]._replace(run=broken))
    result = cli("--repo", str(tmp_path), "config")
    assert result.code == 1 and result.err.count("\n") == 1 and "\x1b" not in result.err, result

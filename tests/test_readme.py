"""The README's shell commands name real things: commands, options, scripts and SQL files.

Every command in a shell code block of README.md that runs ``voice-migration`` is parsed with the
real click command tree (``voice_migration.cli.main``) without running it: an unknown command,
subcommand or option, or a stray argument, fails the test with the README line. Scripts
(``./scripts/...``) and SQL files (``sql/...sql``) the commands use must exist. The quickstart must be
exactly the two commands a new user types on a fresh clone: ``./scripts/run-demo`` and
``./scripts/run-tests``, both executable.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from voice_migration.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
QUICKSTART_SCRIPTS = ("./scripts/run-demo", "./scripts/run-tests")
# Fenced blocks that hold commands; `console` blocks mark commands with a `$ ` prompt, the rest is output.
SHELL_LANGUAGES = frozenset({"", "bash", "sh", "shell", "zsh", "console", "shell-session"})
PROMPT_LANGUAGES = frozenset({"console", "shell-session"})
# Words that run the command after them.
WRAPPERS = frozenset({"sudo", "env", "time", "exec", "nohup", "command"})
CONTROL = ";&|()"

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
_HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_PLACEHOLDER = re.compile(r"<([A-Za-z][\w.-]*)>")  # <backup-id>, not a redirection
_REDIRECT = re.compile(r"(?<![\w-])\d*(?:>>?|<)(?:&\d+|\s*[^\s;&|()]+)")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language, the README line of its first content line, and its text."""

    language: str
    line: int
    lines: tuple[str, ...]
    heading: str


@dataclass(frozen=True)
class Command:
    """One simple command (no pipes or ``&&``) as written in the README, split into words."""

    line: int
    text: str
    words: tuple[str, ...]
    heading: str

    @property
    def program(self) -> str:
        """What runs: ``voice-migration`` for the CLI however it is invoked, else the first word."""
        words = self.words
        if Path(words[0]).name == "voice-migration":
            return "voice-migration"
        if Path(words[0]).name.startswith("python") and list(words[1:3]) == ["-m", "voice_migration"]:
            return "voice-migration"
        return words[0]

    @property
    def arguments(self) -> tuple[str, ...]:
        """The words after the program (after ``-m voice_migration`` for ``python -m``)."""
        return self.words[3:] if self.words[1:3] == ("-m", "voice_migration") else self.words[1:]


# --- reading the markdown ------------------------------------------------------------------------------


def code_blocks(markdown: str) -> Iterator[Block]:
    """The fenced code blocks, each with the heading it sits under."""
    heading = ""
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        title = _HEADING.match(lines[index])
        if title:
            heading = title.group("title")
        if not fence:
            index += 1
            continue
        marker = fence.group("fence")
        body: list[str] = []
        start = index + 2  # 1-based number of the first content line
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(marker):
            body.append(lines[index])
            index += 1
        yield Block(fence.group("lang").lower(), start, tuple(body), heading)
        index += 1


def section_text(markdown: str, title_pattern: str) -> str:
    """The text under the first heading matching ``title_pattern``, up to the next heading as high or higher."""
    lines = markdown.splitlines()
    for start, line in enumerate(lines):
        match = _HEADING.match(line)
        if match and re.search(title_pattern, match.group("title"), re.IGNORECASE):
            level = len(match.group("level"))
            end = next(
                (
                    i
                    for i in range(start + 1, len(lines))
                    if (m := _HEADING.match(lines[i])) and len(m.group("level")) <= level
                ),
                len(lines),
            )
            return "\n".join(lines[start:end])
    return ""


def command_lines(block: Block) -> Iterator[tuple[int, str]]:
    """(README line, command text) per command of a shell block: prompts stripped, continuations joined."""
    pending = ""
    first = 0
    for offset, raw in enumerate(block.lines):
        line = raw.rstrip()
        if not pending:
            prompted = line.lstrip().startswith("$ ")
            if block.language in PROMPT_LANGUAGES and not prompted:
                continue  # output, not a command
            if prompted:  # a `$ ` prompt is allowed in any shell block
                line = line.lstrip()[2:]
            first = block.line + offset
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        if text:
            yield first, text


def split_commands(text: str) -> list[list[str]]:
    """The simple commands of a shell line, as words: no comments, redirections, assignments or wrappers."""
    text = _REDIRECT.sub(" ", _PLACEHOLDER.sub(r"PLACEHOLDER-\1", text))
    lexer = shlex.shlex(text, posix=True, punctuation_chars=CONTROL)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands: list[list[str]] = [[]]
    try:
        tokens = list(lexer)
    except ValueError:  # an unbalanced quote: read it as plain words
        tokens = text.split()
    for token in tokens:
        if token and set(token) <= set(CONTROL):
            commands.append([])
        elif commands[-1] or not (_ASSIGNMENT.match(token) or token in WRAPPERS):
            commands[-1].append(token)
    return [words for words in commands if words]


def shell_commands(markdown: str) -> list[Command]:
    """Every simple command in the shell code blocks of ``markdown``."""
    found = []
    for block in code_blocks(markdown):
        if block.language not in SHELL_LANGUAGES:
            continue
        for line, text in command_lines(block):
            found += [Command(line, text, tuple(words), block.heading) for words in split_commands(text)]
    return found


# --- checking a voice-migration invocation --------------------------------------------------------------


def cli_problem(arguments: Sequence[str]) -> str | None:
    """Why ``voice-migration ARGUMENTS`` would not parse (None if it would); nothing is run.

    Click's own option parser matches the words against each command's options and arguments, so
    the test follows the code. Values are not type-checked (README commands use placeholders) and
    required options may come from the environment: only the names of commands and options, a
    missing option value, and stray arguments are judged.
    """
    command: click.Command = main
    name = "voice-migration"
    args = list(arguments)
    while True:
        ctx = click.Context(command, info_name=name)
        try:
            _, rest, _ = command.make_parser(ctx).parse_args(args=args)
        except click.UsageError as exc:
            return f"`{name}`: {exc.format_message()}"
        if not isinstance(command, click.Group):
            stray = [arg for arg in rest if not arg.startswith("$")]  # "$@" in a script: what the user adds
            return f"`{name}` takes no argument(s) {' '.join(stray)}" if stray else None
        if not rest:
            return None  # e.g. `voice-migration --version`
        sub = command.get_command(ctx, rest[0])
        if sub is None:
            return f"`{name}` has no command {rest[0]!r} (it has: {', '.join(command.list_commands(ctx))})"
        name, command, args = f"{name} {rest[0]}", sub, rest[1:]


def problems(commands: Sequence[Command], root: Path, source: str = "README.md") -> list[str]:
    """Everything wrong with ``commands``, one line each, prefixed with ``source`` and the line number."""
    found = []
    for command in commands:
        where = f"{source}:{command.line}: {command.text}"
        if command.program == "voice-migration":
            problem = cli_problem(command.arguments)
            if problem:
                found.append(f"{where}\n    {problem}")
        if command.program.startswith(("./scripts/", "scripts/")):
            script = root / command.program
            if not (script.is_file() and os.access(script, os.X_OK)):
                found.append(f"{where}\n    {command.program} does not exist or is not executable")
        for word in command.words:
            concrete = "PLACEHOLDER" not in word and "*" not in word
            if word.startswith("sql/") and word.endswith(".sql") and concrete and not (root / word).is_file():
                found.append(f"{where}\n    {word} does not exist")
    return found


# --- the README -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def readme() -> str:
    """The README's text."""
    return README.read_text(encoding="utf-8")


def test_every_readme_command_names_real_commands_options_scripts_and_files(readme: str) -> None:
    commands = shell_commands(readme)
    assert any(c.program == "voice-migration" for c in commands), "the README shows no voice-migration command"
    wrong = problems(commands, ROOT)
    assert not wrong, "README commands that would not work:\n" + "\n".join(wrong)


def test_the_quickstart_is_exactly_the_two_setup_and_run_scripts(readme: str) -> None:
    quickstart = section_text(readme, r"quick\s*start")
    assert quickstart, "the README has no Quickstart section"
    commands = shell_commands(quickstart)
    assert sorted(c.program for c in commands) == sorted(QUICKSTART_SCRIPTS), [c.text for c in commands]
    for script in QUICKSTART_SCRIPTS:
        path = ROOT / script
        assert path.is_file() and os.access(path, os.X_OK), f"{script} is missing or not executable"


def script_commands(script: str) -> list[Command]:
    """The commands of a shell script, read like a README code block (line numbers are the script's)."""
    return shell_commands(f"```bash\n{(ROOT / script).read_text(encoding='utf-8')}\n```")


def test_the_quickstart_scripts_run_real_commands() -> None:
    for script in QUICKSTART_SCRIPTS:
        wrong = problems(script_commands(script), ROOT, source=script)
        assert not wrong, "\n".join(wrong)
    runs_demo = [c for c in script_commands("scripts/run-demo") if c.program == "voice-migration"]
    assert [c.arguments[:1] for c in runs_demo] == [("demo",)]


# --- the checker itself: it must catch what a stale README gets wrong ------------------------------------


SAMPLE = """
# Tool

## Quickstart

```bash
./scripts/run-demo     # the demo
./scripts/run-tests
```

## Use

```bash
DATABASE_URL=postgresql://u@h/db voice-migration migrate --dry-run \\
    --tenant-ids <tenant-a>,<tenant-b> --verbose 2>&1 | tee migration.log
voice-migration rollback --level total --reason "Critical bug"   # emergency
.venv/bin/python -m voice_migration rollout status --format json > status.json
psql -f sql/validation/<check>.sql
$ voice-migration validate --format json
```

```console
$ voice-migration --version
voice-migration migrate --not-an-option
```

```sql
SELECT 'voice-migration nonsense';
```
"""


def test_the_checker_reads_prompts_continuations_pipes_and_assignments() -> None:
    commands = shell_commands(SAMPLE)
    programs = [(c.program, c.arguments) for c in commands]
    assert programs == [
        ("./scripts/run-demo", ()),
        ("./scripts/run-tests", ()),
        (
            "voice-migration",
            ("migrate", "--dry-run", "--tenant-ids", "PLACEHOLDER-tenant-a,PLACEHOLDER-tenant-b", "--verbose"),
        ),
        ("tee", ("migration.log",)),
        ("voice-migration", ("rollback", "--level", "total", "--reason", "Critical bug")),
        ("voice-migration", ("rollout", "status", "--format", "json")),
        ("psql", ("-f", "sql/validation/PLACEHOLDER-check.sql")),
        ("voice-migration", ("validate", "--format", "json")),
        ("voice-migration", ("--version",)),
    ]
    assert [c.line for c in commands][:3] == [7, 8, 14]
    assert problems(commands, ROOT) == []
    assert shell_commands(section_text(SAMPLE, "quickstart"))[1].program == "./scripts/run-tests"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("migrate --dry-rn", "--dry-rn"),
        ("migrat --dry-run", "'migrat'"),
        ("rollout set-percent 10", "'set-percent'"),
        ("rollout status --format json extra", "extra"),
        ("--no-such-global demo", "--no-such-global"),
        ("migrate --tenant-ids", "requires an argument"),
        ("rollout set-percentage 10 11 --by me", "11"),
    ],
)
def test_the_checker_reports_unknown_commands_options_and_stray_arguments(arguments: str, expected: str) -> None:
    problem = cli_problem(arguments.split())
    assert problem is not None and expected in problem


def test_the_checker_reports_missing_scripts_and_sql_files(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "not-executable").write_text("#!/bin/sh\n")
    markdown = "```bash\n./scripts/not-executable\n./scripts/absent\npsql -f sql/validation/absent.sql\n```\n"
    found = problems(shell_commands(markdown), tmp_path)
    assert len(found) == 3
    assert "not-executable does not exist or is not executable" in found[0]
    assert "sql/validation/absent.sql does not exist" in found[2]

"""Fenced code blocks of the project's Markdown files, and which of them are meant to run.

A block runs unless the last non-blank line before its opening fence is
``<!-- no-run: REASON -->``: the reason (for example "needs a real account") is what the
test lists. Python blocks (```` ```python ````) run whole. Shell blocks (``bash``, ``sh``,
``shell``, ``console``) contribute each ``yotta-async`` command that passes ``--simulate``;
the other commands in them (installs, the test suite) are set-up that CI does itself, so a
shell block with no such command must carry a ``no-run`` reason. Other languages
(``text``, ``json``, ...) are not code and are not collected.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

PYTHON = frozenset({"python", "py", "python3", "pycon"})
SHELL = frozenset({"bash", "sh", "shell", "console"})

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
_NO_RUN = re.compile(r"^\s*<!--\s*no-run:\s*(?P<reason>.+?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text and its ``no-run`` reason."""

    path: str
    line: int  # 1-based line of the opening fence
    heading: str
    lang: str
    code: str
    no_run: str | None = None
    commands: tuple[tuple[str, ...], ...] = field(default=())

    @property
    def id(self) -> str:
        """A stable, readable test id: ``README.md:Use it:python``."""
        return f"{self.path}:{self.heading}:{self.lang}@{self.line}"


def blocks(path: Path, root: Path) -> list[Block]:
    """Every Python and shell block of ``path``, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    rel = path.relative_to(root).as_posix()
    out: list[Block] = []
    heading = "(top)"
    last_text = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence is None:
            head = _HEADING.match(line)
            if head:
                heading = head["title"]
            if line.strip():
                last_text = line
            i += 1
            continue
        marker, lang = fence["fence"], fence["info"].lower()
        body: list[str] = []
        start = i
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(marker):
            body.append(lines[i][len(fence["indent"]):] if lines[i].startswith(fence["indent"]) else lines[i])
            i += 1
        i += 1  # the closing fence
        no_run = _NO_RUN.match(last_text)
        last_text = ""
        if lang not in PYTHON | SHELL:
            continue
        code = "\n".join(body) + "\n"
        commands = tuple(simulated_commands(code)) if lang in SHELL else ()
        out.append(Block(rel, start + 1, heading, lang, code, no_run["reason"] if no_run else None, commands))
    return out


def simulated_commands(script: str) -> list[tuple[str, ...]]:
    """The ``yotta-async ... --simulate ...`` commands of a shell block, as argument lists.

    Continuation lines are joined, comments dropped, and ``&&`` / ``;`` chains split; a
    command counts when its program is ``yotta-async`` (any path, such as
    ``.venv/bin/yotta-async``). The arguments after the program name are returned.
    """
    joined = re.sub(r"\\\n", " ", script)
    found: list[tuple[str, ...]] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for part in re.split(r"&&|;|\|\|", line):
            words = shlex.split(part, comments=True)
            words = [w for w in words if w not in ("$",)]
            if not words or not words[0].endswith("yotta-async"):
                continue
            args = tuple(w for w in words[1:])
            if ">" in args:  # a redirect: keep the command, drop the target
                args = args[: args.index(">")]
            if "--simulate" in args:
                found.append(args)
    return found

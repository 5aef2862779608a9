"""The README's output blocks against real output: ``python .ci/readme_output.py CAPTURED``.

Each block the README shows after an ``<!-- output: NAME -->`` marker (a ```console fence
whose first line is ``$ COMMAND``) must equal the real output of that command once both
are normalised: escape codes and progress lines (a terminal's redrawn bar, a log file's
``step N/M`` lines) dropped, wall times written ``N s``. ``.ci/run`` captures the README's
install command (which ends with the main command) and checks the ``main`` block against it,
so a change that alters the main command's output fails CI; ``tests/test_readme.py`` checks
the parts that need no training (the run id, the status) on every test run.
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PROGRESS = re.compile(r"^\s*\d+/\d+ .*(━|step)|^step \d+/\d+ \(\d+%\)")
SECONDS = re.compile(r"\b\d+(\.\d+)? s\b")


def readme_block(name: str, readme: Path = README) -> tuple[str, list[str]]:
    """(the command, its output lines) of the README block after ``<!-- output: NAME -->``."""
    text = readme.read_text()
    marker = f"<!-- output: {name} -->"
    if marker not in text:
        raise SystemExit(f"README.md has no {marker} block")
    block = text.split(marker, 1)[1].split("```console\n", 1)[1].split("```", 1)[0]
    command, *output = block.rstrip("\n").split("\n")
    return command.removeprefix("$ "), output


def normalise(lines: list[str]) -> list[str]:
    """Lines without escape codes, progress lines or wall times (``83.1 s`` → ``N s``)."""
    kept = []
    for line in lines:
        for part in ANSI.sub("", line).replace("\r", "\n").split("\n"):
            if part.strip() and not PROGRESS.search(part):
                kept.append(SECONDS.sub("N s", part.rstrip()))
    return kept


def difference(expected: list[str], captured: str) -> str:
    """Empty when ``captured`` holds the block's output (from its first line on), else a diff."""
    want = normalise(expected)
    got = normalise(captured.split("\n"))
    start = next((i for i, line in enumerate(got) if line == want[0]), None) if want else None
    got = got[start:start + len(want)] if start is not None else got
    if got == want:
        return ""
    return "\n".join(difflib.unified_diff(want, got, "README.md", "real output", lineterm=""))


def main(argv: list[str]) -> int:
    name = argv[2] if len(argv) > 2 else "main"
    _, expected = readme_block(name)
    diff = difference(expected, Path(argv[1]).read_text(errors="replace"))
    if diff:
        print(f"README.md's '{name}' output block differs from the real output (update the block):\n{diff}",
              file=sys.stderr)
        return 1
    print(f"README.md's '{name}' output block matches the real output")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

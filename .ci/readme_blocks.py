"""Print one ```python block of the README's section "## Install into an existing Wagtail site".

    python .ci/readme_blocks.py README.md 1   # the settings block (first ```python fence)
    python .ci/readme_blocks.py README.md 2   # the urls.py block (second ```python fence)

.ci/host_site appends exactly these two blocks to a fresh `wagtail start` site, so the README is
what CI proves. Exits with status 2 and says why when the section, its end or a block is missing
or a fence is not closed: CI must never test a configuration the README does not show.
"""

from __future__ import annotations

import sys
from pathlib import Path

SECTION = "## Install into an existing Wagtail site"


def fail(message: str) -> None:
    print(f"readme_blocks: {message}", file=sys.stderr)
    sys.exit(2)


def section_lines(text: str) -> list[str]:
    """The lines of the section, from its heading to the next heading of level 1 or 2 outside a fence."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.rstrip() == SECTION]
    if not starts:
        fail(f"the README has no section {SECTION!r}")
    if len(starts) > 1:
        fail(f"the README has {len(starts)} sections {SECTION!r}; which one is meant?")
    body, fenced = [], False
    for line in lines[starts[0] + 1:]:
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (line.startswith("## ") or line.startswith("# ")):
            break
        body.append(line)
    return body


def python_blocks(lines: list[str]) -> list[str]:
    blocks, current = [], None
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if current is None:
            if stripped.startswith("```"):
                current = [] if stripped[3:].strip().lower() in ("python", "py") else False
        elif stripped == "```":
            if current is not False:
                blocks.append("\n".join(current) + "\n")
            current = None
        elif current is not False:
            current.append(line)
    if current is not None:
        fail(f"a code fence in {SECTION!r} is never closed")
    return blocks


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[2] not in ("1", "2"):
        fail("usage: readme_blocks.py README.md 1|2")
    path = Path(argv[1])
    if not path.is_file():
        fail(f"{path} does not exist")
    blocks = python_blocks(section_lines(path.read_text(encoding="utf-8")))
    if len(blocks) < 2:
        fail(f"{SECTION!r} has {len(blocks)} ```python block(s); it needs the settings block and the urls.py block")
    block = blocks[int(argv[2]) - 1]
    if not block.strip():
        fail(f"```python block {argv[2]} of {SECTION!r} is empty")
    if argv[2] == "2" and "urlpatterns" not in block:
        fail(f"the second ```python block of {SECTION!r} must contain `urlpatterns` (it goes into urls.py)")
    try:
        compile(block, f"README block {argv[2]}", "exec")
    except SyntaxError as exc:
        fail(f"```python block {argv[2]} of {SECTION!r} is not valid Python: {exc}")
    sys.stdout.write(block)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

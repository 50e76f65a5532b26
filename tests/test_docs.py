"""The manual lives in the repository and matches the code.

- No file of the project cites design notes that a clone does not have.
- Every `gener` command shown in README.md or docs/ is a real verb (and sub-verb) of the CLI,
  with options that verb has; every benchmark or script it runs exists; every relative link
  (and its #anchor) resolves.
- .ci/run runs exactly the README's test command.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import typer.main

from gener.cli import app
from gener.data.registry import DATASETS

ROOT = Path(__file__).resolve().parent.parent
MANUAL = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Developer notes kept outside the repository: a name of theirs may appear only as a path
# to a file of the repository (docs/data.md is one), never as a citation of the notes.
NOTE_NAMES = re.compile(r"[\w./-]*\b(?:annotation-notes|generation-notes|compat|design|data)\.md\b")
OUTSIDE = re.compile(r"shared/docs|\b(?:annotation|generation)-notes\b")


def project_files() -> list[Path]:
    """Tracked files plus new ones not ignored (so the check also sees work not yet committed);
    a checkout without git: every file outside caches and build output."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, check=True).stdout.decode()
        files = [ROOT / p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", "__pycache__", ".pytest_cache", "build", "dist"}
        files = [p for p in ROOT.rglob("*")
                 if not skip & set(p.relative_to(ROOT).parts) and ".egg-info" not in str(p)]
    return [p for p in files if p.is_file() and p != Path(__file__).resolve()]


def test_no_file_cites_notes_outside_the_repository():
    cited = []
    for path in project_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # weights, compressed fixtures
        for match in OUTSIDE.finditer(text):
            cited.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: {match.group()}")
        for match in NOTE_NAMES.finditer(text):
            ref = match.group()
            if not ((ROOT / ref).is_file() or (path.parent / ref).is_file()):
                cited.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: {ref}")
    assert not cited, "cites notes a clone does not have (say the fact, or point to docs/):\n" + "\n".join(cited)


def test_cited_readme_sections_exist():
    """A docstring or model card that cites `README "Section"` names a heading the README has
    (the manual moved to docs/ once; such citations went stale with it)."""
    headings = re.findall(r"^#+ (.+)$", (ROOT / "README.md").read_text(), re.M)
    stale = []
    for path in project_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for section in re.findall(r'README,? "([^"]+)"', text):
            if not any(h.startswith(section) for h in headings):
                stale.append(f"{path.relative_to(ROOT)}: README \"{section}\"")
    assert not stale, "cites README sections that do not exist:\n" + "\n".join(stale)


# --- commands shown in the manual ---------------------------------------------------------

FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)
SHELL = {"", "bash", "sh", "shell", "console"}
SPAN = re.compile(r"`([^`\n]+)`")


def code_lines(text: str) -> list[str]:
    """Lines of shell blocks (continuations joined) and every inline code span."""
    lines = []
    for info, block in FENCE.findall(text):
        if info.strip() in SHELL:
            lines += block.replace("\\\n", " ").splitlines()
    prose = FENCE.sub("", text)
    lines += SPAN.findall(prose)
    return lines


def invocations(line: str) -> list[list[str]]:
    """Argument lists after `gener` (or `-m gener.cli`) in one line, one per command of it."""
    found = []
    for part in re.split(r"&&|;| \| ", line):
        try:
            tokens = shlex.split(part, comments=True)
        except ValueError:
            tokens = part.split()
        for i, token in enumerate(tokens):
            if token == "gener" or (token == "gener.cli" and i and tokens[i - 1] == "-m"):
                found.append([t.strip("[]") for t in tokens[i + 1:] if t != "..."])
                break
    return found


# Commands are inspected by duck typing: typer may bring its own copy of click.
def is_group(command) -> bool:
    return hasattr(command, "commands")


def option_names(command) -> set[str]:
    names = {"--help"}
    for param in command.params:
        if param.param_type_name == "option":
            names.update(param.opts, param.secondary_opts)
    return names


def check_invocation(root, args: list[str]) -> str | None:
    """What is wrong with `gener ARGS` as shown, or None."""
    command, shown = root, "gener"
    while is_group(command) and args and not args[0].startswith("-"):
        name = args.pop(0)
        if name not in command.commands:
            return f"`{shown} {name}`: no such verb (have: {', '.join(command.commands)})"
        command, shown = command.commands[name], f"{shown} {name}"
    known = option_names(command)
    for arg in args:
        option = arg.split("=", 1)[0]
        if re.fullmatch(r"--[a-z][\w-]*|-[a-zA-Z]", option) and option not in known:
            return f"`{shown}` has no option {option}"
    return None


ROOT_COMMAND = typer.main.get_command(app)


@pytest.mark.parametrize("page", MANUAL, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_shown_is_real(page):
    problems, checked = [], 0
    for line in code_lines(page.read_text()):
        for args in invocations(line):
            checked += 1
            problem = check_invocation(ROOT_COMMAND, args)
            if problem:
                problems.append(f"{problem}  <- {line.strip()}")
        for script in re.findall(r"\b(?:python|bash)\s+((?:benchmarks|scripts|tests/data)/[\w./-]+)", line):
            if not (ROOT / script).is_file():
                problems.append(f"{script} does not exist  <- {line.strip()}")
    assert not problems, "\n".join(problems)
    if page == ROOT / "README.md":
        assert checked >= 3  # the parser found the Quickstart's commands


def github_anchor(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text())
    return {github_anchor(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


@pytest.mark.parametrize("page", MANUAL, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(page):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", FENCE.sub("", page.read_text())):
        if re.match(r"[a-z]+://", target):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {', '.join(broken)}"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    command = next(line for line in ci.splitlines() if "pytest" in line and not line.startswith("#"))
    assert command.strip() in (ROOT / "README.md").read_text()


def test_every_reference_dataset_is_documented():
    page = (ROOT / "docs" / "data.md").read_text()
    missing = [d.name for d in DATASETS if f"`{d.name}`" not in page]
    assert not missing, f"docs/data.md does not list: {', '.join(missing)}"


def test_the_checks_can_fail():
    assert check_invocation(ROOT_COMMAND, ["annotat", "x.fa"])
    assert check_invocation(ROOT_COMMAND, ["data", "fetch", "--no-such-option"])
    assert check_invocation(ROOT_COMMAND, ["finetune", "classify", "-x"])
    assert check_invocation(ROOT_COMMAND, ["data", "regions", "g.gbk", "-o", "r.parquet", "--flank", "100"]) is None
    assert invocations("OMP_NUM_THREADS=2 gener pretrain --steps 3 && gener models --params") == [
        ["pretrain", "--steps", "3"], ["models", "--params"]]
    assert NOTE_NAMES.search("see compat.md") and OUTSIDE.search("the shared/docs notes")

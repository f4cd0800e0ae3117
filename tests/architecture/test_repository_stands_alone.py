"""The repository stands on its own: someone who clones it has only the repository.

Every tracked text file (``git ls-files``) is read:

- no file names a path outside the repository: a sibling folder (``../shared``), the reference
  set it once sat beside, a home, root or work directory, or a design document that is not in
  the repository (the old design, style and provider notes, the glossary — replaced by
  ``docs/architecture.md``, ``docs/conventions.md``, ``docs/providers/`` and ``docs/glossary.md``);
- every ``docs/…`` path cited anywhere exists, every ``docs/<page>.md §N`` names a section the
  page has (a heading numbered ``N`` or ``§N``; the numbered rules of ``docs/conventions.md``),
  and every ``docs/glossary.md "term"`` names an entry of the glossary.

This file is the only one left out of the scans: it has to spell the patterns it looks for. The
self-checks prove the scans see the files and catch a planted offence with the same functions.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tests.processes import ROOT

THIS_FILE = Path(__file__).resolve().relative_to(ROOT).as_posix()

# A path outside the repository, or a document that is not in it.
OUTSIDE = re.compile(
    r"\.\./shared"  # the sibling folder of a working copy
    r"|shared/reference"  # the reference set that lived there
    r"|/work/|/home/|/root/"  # a machine's work, home or root directory
    r"|\bDESIGN\.md|\bSTYLE\.md"  # now docs/architecture.md and docs/conventions.md
    r"|(?<!docs/providers/)\bproviders\.md"  # a bare providers.md is the outside file
    r"|\bGLOSSARY\b"  # now docs/glossary.md
)

# Text that matches OUTSIDE but names part of the product, by file, with the reason. The text is
# taken out of the line before the line is searched, so anything else on it is still caught.
ALLOWED = {
    # The deployment (arriving with the deployment branch) installs each release on the host as
    # <root>/releases/<name>/ beside <root>/shared/ (the environment file, var/): "../../shared/"
    # is the deploy target's layout, seen from a release directory, not a folder beside a
    # checkout of this repository.
    ("deploy/remote.sh", "../../shared/"): "the host's release layout",
    ("docs/runbook.md", "../../shared/"): "the host's release layout",
}

# docs/… paths cited before the file is committed by the work that writes it. Remove an entry as
# soon as its file is in the repository.
PENDING = {
    "docs/openapi.yaml": "the committed OpenAPI schema (issue 16, item 2)",
}

NUMBER = r"\d+(?:\.\d+)*"
# A cited document: a file name with its extension (``docs/architecture`` alone is a word, not a path).
DOC_PATH = re.compile(r"(?<![\w/.-])(docs/[\w./-]*\.[A-Za-z]\w*)")
SECTION_CITATION = re.compile(
    rf"(?<![\w/.-])(docs/[\w./-]+?\.md)\s*§§?\s*({NUMBER}(?:\s*,\s*§\s*{NUMBER}|\s*(?:-|\u2013|to)\s*§?\s*{NUMBER})*)"
)
GLOSSARY_CITATION = re.compile(r"(?<![\w/.-])docs/glossary\.md\s+\"([^\"]+)\"")
HEADING_NUMBER = re.compile(rf"^#{{1,6}}\s+(?:§\s*)?({NUMBER})(?=[.)\s]|$)")
RULE_NUMBER = re.compile(rf"^({NUMBER})\.\s")
# Pages whose citable sections are numbered rules (list items) rather than numbered headings.
NUMBERED_RULE_PAGES = frozenset({"docs/conventions.md"})
GLOSSARY_ENTRY = re.compile(r"^\*\*([^*]+)\*\*")


@dataclass(frozen=True)
class TextFile:
    path: str  # relative to the repository, posix
    text: str


def tracked_text_files() -> list[TextFile]:
    """Every file git tracks that reads as UTF-8 text (binaries and this file left out)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True, timeout=60
    ).stdout.decode()
    files = []
    for name in filter(None, listing.split("\0")):
        if name == THIS_FILE:
            continue
        path = ROOT / name
        if not path.is_file():  # deleted in the working tree, not yet committed
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            files.append(TextFile(name, data.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return files


def outside_references(files: Iterable[TextFile]) -> list[str]:
    """``path:line: text`` of every line naming a path outside the repository."""
    found = []
    for file in files:
        for number, line in enumerate(file.text.splitlines(), start=1):
            searched = line
            for path, text in ALLOWED:
                if path == file.path:
                    searched = searched.replace(text, "")
            if not OUTSIDE.search(searched):
                continue
            found.append(f"{file.path}:{number}: {line.strip()}")
    return found


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def missing_documents(files: Iterable[TextFile], root: Path) -> list[str]:
    """``path:line: docs/…`` of every cited docs path that is not in the repository."""
    found = []
    for file in files:
        for match in DOC_PATH.finditer(file.text):
            cited = match.group(1)
            if cited in PENDING or (root / cited).exists():
                continue
            found.append(f"{file.path}:{_line_of(file.text, match.start())}: {cited}")
    return found


def sections_of(page: str, text: str) -> set[str]:
    """The section numbers a page offers to citations."""
    pattern = RULE_NUMBER if page in NUMBERED_RULE_PAGES else None
    numbers = set()
    for line in text.splitlines():
        heading = HEADING_NUMBER.match(line)
        if heading:
            numbers.add(heading.group(1))
        elif pattern is not None and (rule := pattern.match(line)):
            numbers.add(rule.group(1))
    return numbers


def missing_sections(files: Iterable[TextFile], root: Path) -> list[str]:
    """``path:line: docs/<page>.md §N`` of every cited section the page does not have."""
    found = []
    pages: dict[str, set[str]] = {}
    for file in files:
        for match in SECTION_CITATION.finditer(file.text):
            page = match.group(1)
            if not (root / page).is_file():
                continue  # reported by missing_documents
            if page not in pages:
                pages[page] = sections_of(page, (root / page).read_text())
            for number in re.findall(NUMBER, match.group(2)):
                if number not in pages[page]:
                    found.append(f"{file.path}:{_line_of(file.text, match.start())}: {page} §{number}")
    return found


def missing_glossary_entries(files: Iterable[TextFile], root: Path) -> list[str]:
    """``path:line: "term"`` of every cited glossary term that has no entry."""
    glossary = root / "docs" / "glossary.md"
    entries: set[str] = set()
    if glossary.is_file():
        for line in glossary.read_text().splitlines():
            if entry := GLOSSARY_ENTRY.match(line):
                entries.update(term.strip() for term in entry.group(1).split(","))
    found = []
    for file in files:
        for match in GLOSSARY_CITATION.finditer(file.text):
            if match.group(1) not in entries:
                found.append(f'{file.path}:{_line_of(file.text, match.start())}: "{match.group(1)}"')
    return found


# --- the rules ----------------------------------------------------------------------------------


def test_no_tracked_file_names_a_path_outside_the_repository() -> None:
    found = outside_references(tracked_text_files())
    assert not found, "paths or documents outside the repository:\n" + "\n".join(found)


def test_every_cited_docs_path_exists() -> None:
    found = missing_documents(tracked_text_files(), ROOT)
    assert not found, "cited documents that are not in the repository:\n" + "\n".join(found)


def test_every_cited_section_exists_in_its_page() -> None:
    found = missing_sections(tracked_text_files(), ROOT)
    assert not found, "cited sections the page does not have:\n" + "\n".join(found)


def test_every_cited_glossary_term_has_an_entry() -> None:
    found = missing_glossary_entries(tracked_text_files(), ROOT)
    assert not found, "cited glossary terms without an entry in docs/glossary.md:\n" + "\n".join(found)


def test_pending_documents_are_really_cited() -> None:
    cited = {match.group(1) for file in tracked_text_files() for match in DOC_PATH.finditer(file.text)}
    stale = sorted(set(PENDING) - cited)
    assert not stale, f"PENDING lists documents nobody cites any more: {stale}"


# --- self-checks: the scans see the files and catch what they are meant to catch ----------------


def test_the_scan_sees_every_kind_of_tracked_file() -> None:
    files = {file.path for file in tracked_text_files()}
    assert len(files) > 300
    for expected in ("README.md", "Makefile", "docs/architecture.md", "mobilemoney/providers/wave.py"):
        assert expected in files
    assert THIS_FILE not in files


def test_a_planted_outside_path_is_caught_by_the_same_scan(tmp_path: Path) -> None:
    planted = [
        "# see " + "../shared" + "/notes.md",
        "CERT = '" + "/home" + "/alice/cert.pem'",
        "path: " + "/root" + "/.config",
        "cd " + "/work" + "/main",
        "(" + "DESIGN" + ".md §4)",
        "(" + "STYLE" + ".md §36)",
        "(" + "providers" + ".md §1.3)",
        "GLOSS" + 'ARY "MSISDN"',
        "`" + "shared/reference" + "/iso20022/xsd/`",
    ]
    fine = [
        "(docs/providers/wave.md §3)",
        'docs/glossary.md "MSISDN"',
        "ExecStart=/srv/addon-partner/current/.venv/bin/gunicorn",
        "ssl.ca.location=/etc/addon/kafka/ca.pem",
    ]
    (tmp_path / "planted.py").write_text("\n".join(planted + fine) + "\n")
    files = [TextFile("planted.py", (tmp_path / "planted.py").read_text())]
    found = outside_references(files)
    assert [line.split(": ", 1)[1] for line in found] == planted


def test_an_allowed_product_path_hides_nothing_else_on_its_line() -> None:
    path, text = next(iter(ALLOWED))
    allowed = f'ln -s {text}var "$dir/var"'
    mixed = f"ln -s {text}var /home" + "/ops/var"
    assert outside_references([TextFile(path, allowed + "\n" + mixed + "\n")]) == [f"{path}:2: {mixed}"]
    assert outside_references([TextFile("elsewhere.sh", allowed + "\n")]) == [f"elsewhere.sh:1: {allowed}"]


def test_a_planted_dangling_citation_is_caught_by_the_same_scans(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "page.md").write_text("# Page\n\n## 1. One\n\n### 1.2 One point two\n\n## §3 Three\n")
    (docs / "rules.md").write_text("# Rules\n\n1. First rule\n")
    (docs / "glossary.md").write_text("**Float** — money.\n\n**Hold, capture, release** — a pair.\n")
    text = (
        "ok: docs/page.md §1, docs/page.md §1.2, docs/page.md §§1-3, docs/page.md §1, §3.\n"
        "missing page: docs/nowhere.md\n"
        "missing section: docs/page.md §2 and docs/page.md §1, §4\n"
        "list items are not sections here: docs/rules.md §1\n"
        'terms: docs/glossary.md "Float", docs/glossary.md "capture", docs/glossary.md "Ledger"\n'
    )
    files = [TextFile("cites.py", text)]
    assert missing_documents(files, tmp_path) == ["cites.py:2: docs/nowhere.md"]
    assert missing_sections(files, tmp_path) == [
        "cites.py:3: docs/page.md §2",
        "cites.py:3: docs/page.md §4",
        "cites.py:4: docs/rules.md §1",
    ]
    assert missing_glossary_entries(files, tmp_path) == ['cites.py:5: "Ledger"']
    assert sections_of("docs/conventions.md", "## Money\n13. One money module\n") == {"13"}

"""The console's French catalogue: every string translated, and the committed .mo compiled from the .po.

The .mo is committed (``manage.py compilemessages`` after ``makemessages -l fr``): this test fails when
the .po was changed without compiling it again, or when a string was left untranslated or fuzzy.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "fr" / "LC_MESSAGES"
KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$")


@dataclass
class Entry:
    context: str | None = None
    msgid: str = ""
    plural: str | None = None
    translations: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False


def po_entries(text: str) -> list[Entry]:
    """The entries of a .po file (header excluded): enough of the format for makemessages' output."""
    entries: list[Entry] = []
    entry, last = Entry(), ""
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if entry.msgid:
                entries.append(entry)
            entry, last = Entry(), ""
        elif line.startswith("#,"):
            entry.fuzzy = "fuzzy" in line
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if last == "msgctxt":
                entry.context = (entry.context or "") + value
            elif last == "msgid":
                entry.msgid += value
            elif last == "msgid_plural":
                entry.plural = (entry.plural or "") + value
            elif last.startswith("msgstr"):
                index = int(last[7:-1]) if "[" in last else 0
                entry.translations[index] = entry.translations.get(index, "") + value
        elif match := KEYWORD.match(line):
            last, value = match.group(1), ast.literal_eval(match.group(3))
            if last == "msgctxt":
                entry.context = value
            elif last == "msgid":
                entry.msgid = value
            elif last == "msgid_plural":
                entry.plural = value
            else:
                entry.translations[int(match.group(2) or 0)] = value
    return entries


def test_every_string_of_the_console_is_translated_and_compiled() -> None:
    entries = po_entries((CATALOGUE / "django.po").read_text(encoding="utf-8"))
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        mo = gettext.GNUTranslations(compiled)

    assert len(entries) > 20
    assert [entry.msgid for entry in entries if entry.fuzzy or not all(entry.translations.values())] == []
    for entry in entries:
        if entry.plural is None:
            found = mo.pgettext(entry.context, entry.msgid) if entry.context else mo.gettext(entry.msgid)
            assert found == entry.translations[0], entry.msgid
        else:
            for count, index in ((1, 0), (2, 1)):
                found = (
                    mo.npgettext(entry.context, entry.msgid, entry.plural, count)
                    if entry.context
                    else mo.ngettext(entry.msgid, entry.plural, count)
                )
                assert found == entry.translations[index], entry.msgid


def test_the_parser_reads_contexts_plurals_and_continued_lines() -> None:
    text = "\n".join(
        [
            'msgid ""',
            'msgstr "Language: fr\\n"',
            "",
            "#, fuzzy",
            'msgctxt "menu"',
            'msgid "Open"',
            'msgstr "Ouvrir"',
            "",
            'msgid "one item"',
            'msgid_plural "%(n)s items"',
            'msgstr[0] "un "',
            '"élément"',
            'msgstr[1] "%(n)s éléments"',
        ]
    )
    opened, items = po_entries(text)
    assert (opened.context, opened.msgid, opened.translations, opened.fuzzy) == ("menu", "Open", {0: "Ouvrir"}, True)
    assert (items.plural, items.translations) == ("%(n)s items", {0: "un élément", 1: "%(n)s éléments"})

"""The glossary, read from docs/domain.md §7 ("Glossary") when the page is asked for: the file is
the source, so editing it changes the page (the parse is kept while the file's mtime is unchanged).

Each bullet of §7 is "<terms>: <definition>" (terms joined by "vs", "=" gives an alias) or a sentence
that begins with its term ("ASC differs from ASO only in ..."). A bullet defines its first term, and
the other terms of its heading that no bullet defines first ("TPA vs carrier" defines carrier too).
"""
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

DOMAIN_DOC = Path(settings.BASE_DIR) / "docs" / "domain.md"
SECTION = re.compile(r"^##\s+\d+\.\s+Glossary\b", re.I)
ACRONYM = re.compile(r"^[A-Z]{2,6}$")


@dataclass
class Term:
    name: str
    slug: str
    definition: str  # the bullet's text after its heading (the whole sentence when it has none)
    source: str  # the bullet as written
    aliases: list[str] = field(default_factory=list)
    compared_with: list[str] = field(default_factory=list)  # the other terms of a "vs" heading

    @property
    def short(self) -> str:
        """The definition's first clause: what a link's title shows."""
        first = self.definition if self.compared_with else re.split(r";\s|\.\s", self.definition, maxsplit=1)[0]
        first = first.rstrip(".")
        return first if len(first) <= 160 else first[:157].rstrip() + "…"

    @property
    def case_sensitive(self) -> bool:
        return bool(ACRONYM.match(self.name))


def slug_of(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _bullets(text: str) -> list[str]:
    """The bullets of the glossary section, each joined onto one line."""
    lines = text.splitlines()
    bullets: list[str] = []
    inside = False
    for line in lines:
        if SECTION.match(line):
            inside = True
            continue
        if inside and line.startswith("#"):
            break
        if not inside:
            continue
        if line.startswith("- "):
            bullets.append(line[2:].strip())
        elif line.strip() and bullets and line[:1].isspace():
            bullets[-1] += " " + line.strip()
    return bullets


def _heading_terms(heading: str) -> tuple[list[str], list[str]]:
    """("TPA vs carrier") -> (["TPA", "carrier"], []); ("ASO = self-funded") -> (["ASO"], ["self-funded"])."""
    names, aliases = [], []
    for part in re.split(r"\s+vs\.?\s+", heading):
        main, *same = [p.strip() for p in part.split("=")]
        main = re.sub(r"\s*\(.*?\)\s*", " ", main).strip()  # "ASO (HR services)" -> "ASO"
        names.append(main)
        aliases.extend(s for s in same if s)
    return names, aliases


def glossary_parse(text: str) -> list[Term]:
    """The terms of §7, in the order the doc gives them."""
    terms: dict[str, Term] = {}
    for bullet in _bullets(text):
        heading, sep, definition = bullet.partition(":")
        if not sep or len(heading) > 60:  # a sentence that begins with its term
            heading, definition = bullet.split(" ", 1)[0], bullet
        names, aliases = _heading_terms(heading.strip())
        halves = re.split(r",?\s+versus\s+", definition.strip())
        own = halves if len(names) == 2 and len(halves) == 2 else None  # "A vs B: a, versus b"
        for i, name in enumerate(names):
            slug = slug_of(name)
            if slug in terms or not slug:
                continue
            if i > 0 and any(slug_of(n) == slug for n in _first_terms(text)):
                continue  # another bullet defines it
            display = name if ACRONYM.match(name) else name[:1].upper() + name[1:]
            terms[slug] = Term(name=display, slug=slug, definition=(own[i] if own else definition.strip()).rstrip("."),
                               source=bullet,
                               aliases=aliases if i == 0 else [],
                               compared_with=[n for n in names if n != name])
    return list(terms.values())


def _first_terms(text: str) -> list[str]:
    out = []
    for bullet in _bullets(text):
        heading, sep, _ = bullet.partition(":")
        if not sep or len(heading) > 60:
            heading = bullet.split(" ", 1)[0]
        out.append(_heading_terms(heading.strip())[0][0])
    return out


_cache: dict = {}


def glossary_terms(*, path: Path = DOMAIN_DOC) -> list[Term]:
    """The glossary of the doc as it is now (re-read when the file changes); empty when it is missing."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return []
    key = (str(path), stamp)
    if key not in _cache:
        _cache.clear()
        _cache[key] = glossary_parse(path.read_text(encoding="utf-8"))
    return _cache[key]

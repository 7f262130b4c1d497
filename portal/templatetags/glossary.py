"""The explanations' template helpers: `glossary_links` (the first use of each glossary term in a
fragment becomes a link to its definition, with the short definition as its title), and the pieces
the claim pages and the employer's home include: the claim's lifecycle, its money, the sponsor's money."""
import datetime
import re

from django import template
from django.urls import reverse
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, mark_safe

from portal.explain.glossary import ACRONYM, glossary_terms
from portal.explain.lifecycle import lifecycle_diagram
from portal.explain.money_flow import claim_money_flow, sponsor_money_flow

register = template.Library()

TAG = re.compile(r"(<[^>]*>)")
# Text inside these is never linked: a link in a link, a form control, a script, an SVG's labels.
NO_LINKS = {"a", "button", "option", "select", "textarea", "script", "style", "title", "svg", "label", "summary"}
OPENING = re.compile(r"^<\s*([a-zA-Z0-9]+)")
CLOSING = re.compile(r"^<\s*/\s*([a-zA-Z0-9]+)")


def _patterns() -> list[tuple[re.Pattern, object]]:
    out = []
    for term in glossary_terms():
        for name in [term.name, *term.aliases]:
            if ACRONYM.match(name):  # "ASO", never "aso" inside a word or in another sense
                out.append((re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])"), term))
            else:  # "Stop-loss", "stop-loss", "carriers"
                out.append((re.compile(rf"(?<![\w-]){re.escape(name)}s?(?![\w-])", re.I), term))
    return out


def _link_text(text: str, patterns, done: set, url: str) -> str:
    """One run of text with the first use of each term not yet linked wrapped in a link (the earliest
    match wins where two overlap: "ASC" inside no other term)."""
    hits = []
    for pattern, term in patterns:
        if term.slug not in done and (found := pattern.search(text)) is not None:
            hits.append((found.start(), -len(found.group(0)), found.end(), term, found.group(0)))
    out, pos = [], 0
    for start, _, end, term, word in sorted(hits, key=lambda h: (h[0], h[1])):
        if start < pos or term.slug in done:
            continue
        out += [text[pos:start], f'<a class="term" href="{url}#{term.slug}" title="{escape(term.short)}">{word}</a>']
        pos = end
        done.add(term.slug)
    out.append(text[pos:])
    return "".join(out)


def link_terms(html: str) -> str:
    """`html` with the first use of each known term, outside links and controls, wrapped in a link."""
    url = reverse("portal:glossary")
    patterns = _patterns()
    done: set[str] = set()
    inside: list[str] = []  # the NO_LINKS elements open around the current text
    parts = TAG.split(html)
    for i, part in enumerate(parts):
        if part.startswith("<"):
            closing = CLOSING.match(part)
            opening = OPENING.match(part)
            if closing and closing.group(1).lower() in inside:
                inside.remove(closing.group(1).lower())
            elif opening and opening.group(1).lower() in NO_LINKS and not part.endswith("/>"):
                inside.append(opening.group(1).lower())
        elif part.strip() and not inside:
            parts[i] = _link_text(part, patterns, done, url)
    return "".join(parts)


@register.filter(is_safe=True)
def glossary_links(value) -> str:
    """A fragment with its glossary terms linked: plain text is escaped first; HTML (a safe string, or
    the output of `{% filter glossary_links %}`) keeps its tags and only its text is linked."""
    html = value if isinstance(value, SafeData) else conditional_escape(str(value))
    return mark_safe(link_terms(str(html)))


@register.inclusion_tag("portal/explain/_lifecycle.html")
def claim_lifecycle(claim, timeline):
    """The lifecycle with the claim's state and path (`timeline`: claim_transitions, as the claim pages have it)."""
    return {"claim": claim, "diagram": lifecycle_diagram(timeline=timeline, current=claim.state)}


@register.inclusion_tag("portal/explain/_claim_money.html", takes_context=True)
def claim_money(context, claim):
    """The claim's money flow for the login of the page (nothing for a member)."""
    return {"money": claim_money_flow(claim=claim, user=context["request"].user)}


@register.inclusion_tag("portal/explain/_sponsor_money.html")
def sponsor_money(employer, today, plan_year=None):
    """The sponsor's money this plan year; `plan_year` ({"start", "last"}, as the employer's home has it)
    saves reading it again."""
    year = None
    if plan_year:
        year = (plan_year["start"], plan_year["last"] + datetime.timedelta(days=1))
    return {"sponsor_money": sponsor_money_flow(employer=employer, today=today, plan_year=year)}

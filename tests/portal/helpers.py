"""What the dashboards' tests share besides fixtures: the demo's date and logins, and readers of a
page's tables, figures and CSV downloads."""
import csv
import datetime
import io
import re
from html.parser import HTMLParser

DEMO_DATE = datetime.date(2026, 6, 15)  # the business date of the tests' demo world
ROLE_LOGINS = ("provider", "examiner", "supervisor", "employer", "carrier", "member")
SECOND_LOGINS = {"provider": "provider2", "employer": "employer2", "member": "member2"}  # another party of a kind


class _Tables(HTMLParser):
    """The rows of every table with a data-testid, each a list of its cells' text."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-testid" in attrs:
            self._table = self.tables.setdefault(attrs["data-testid"], [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table(html: str, testid: str) -> list[list[str]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables[testid]


def shown(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', html, re.S)
    assert match, testid
    return " ".join(match.group(1).split())


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(body_of(response))))


def body_of(response) -> str:
    """A response's text, a streamed one (a CSV download) read to its end."""
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()

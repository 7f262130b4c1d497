"""The API reads JSON only, with its numbers exact: 150.10 is Decimal("150.10"), never a float
(money is never a float: core.money refuses one)."""
import codecs
import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


class ExactJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
        except (ValueError, UnicodeError) as exc:
            raise ParseError(f"JSON parse error: {str(exc)[:200]}") from None
        except RecursionError:  # a body nested thousands deep
            raise ParseError("JSON parse error: nested too deeply") from None

"""Open311 output: one payload rendered as JSON or as XML with the standard's element names.

Payloads are plain dicts and lists shaped like the standard's JSON; XML is derived from them: a list becomes
an element whose children are named by ITEM_TAGS (`<services><service>…`), None an empty element, booleans
`true`/`false`. ElementTree escapes markup in text; characters XML 1.0 cannot carry at all (control
characters a client may have sent in a description) are replaced, so the document always parses.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from django.http import HttpResponse

FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'  # the standard asks for this exact spelling

# The element name of each item, by the element name of its list.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}

_NOT_IN_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Open311Error(Exception):
    """A request the standard answers with an error list: one HTTP status, one description per problem."""

    def __init__(self, code: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.code = code
        self.descriptions = descriptions


def render(fmt: str, root: str, payload, *, status: int = 200) -> HttpResponse:
    """`payload` as JSON, or as XML under the element `root`."""
    if fmt == "xml":
        body = XML_DECLARATION + ET.tostring(element(root, payload), encoding="unicode")
    else:
        body = json.dumps(payload, ensure_ascii=False, allow_nan=False)
    return HttpResponse(body.encode(), status=status, content_type=CONTENT_TYPES[fmt])


def render_error(fmt: str, error: Open311Error) -> HttpResponse:
    errors = [{"code": error.code, "description": text} for text in error.descriptions]
    return render(fmt, "errors", errors, status=error.code)


def element(tag: str, value) -> ET.Element:
    node = ET.Element(tag)
    if isinstance(value, dict):
        node.extend(element(key, item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        node.extend(element(ITEM_TAGS[tag], item) for item in value)
    elif value is not None:
        node.text = xml_text(value)
    return node


def xml_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_IN_XML.sub("\ufffd", str(value))

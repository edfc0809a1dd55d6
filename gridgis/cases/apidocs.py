"""The OpenAPI schema's settings and a docs page rendered on the server from that schema: no Swagger UI or
ReDoc bundle (they would come from a CDN, and gridgis serves nothing from a CDN), no JavaScript at all."""

from __future__ import annotations

from django.views.generic import TemplateView
from drf_spectacular.generators import SchemaGenerator

from . import schema as _extensions  # noqa: F401  (registers the schema extensions)

DESCRIPTION = """
The native API of gridgis. Authentication: a session (pages) or `Authorization: Token <key>`.
Every list, detail and action goes through the caller's territorial scope.

Errors:
- 400 `{"<field>": ["message", …]}` — the field at fault; rules that are no single field's use
  `non_field_errors` (e.g. verification by the handler themself, a return after the 2-working-day window)
  or `status` (rating a case that is not closed); an extension beyond 10 working days names `hours`.
- 401/403 `{"detail": "…"}` — not signed in; or (403) signed in, the case in scope, but the action is not
  yours: `{"detail", "allowed_actions"}`.
- 404 `{"detail": "…"}` — no such case in your scope; a case of another territory is reported exactly like
  one that does not exist.
- 409 `{"detail", "code": "illegal_transition", "status", "action", "allowed_actions"}` — the action does not
  start from the case's status (or condition: an extension already pending, …); `allowed_actions` lists what
  you may do now.

Case life cycle: received → registered (or voided) → dispatched → accepted → in_progress → handled →
verified → closed → rated; a failed verification or an unsatisfied rating sends it back to dispatched (返工).
Deadlines count working hours (08:30–12:00, 13:30–18:00) on the official Chinese holiday calendar;
`deadline_state` is green, yellow (80% of the time used) or red (overdue).
"""

SCHEMA_SETTINGS = {
    "TITLE": "gridgis API",
    "DESCRIPTION": DESCRIPTION,
    "VERSION": "1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"CasePriorityEnum": "gridgis.cases.models.Case.Priority",
                            "CaseStatusEnum": "gridgis.cases.models.Case.Status",
                            "TierEnum": "gridgis.cases.models.Category.Tier"},
}

_cache: dict = {}


def api_schema() -> dict:
    """The schema, generated once per process (routes do not change while it runs)."""
    if "schema" not in _cache:
        from drf_spectacular.settings import patched_settings

        with patched_settings(SCHEMA_SETTINGS):
            _cache["schema"] = SchemaGenerator().get_schema(request=None, public=True)
    return _cache["schema"]


def _resolve(schema: dict, node: dict | None) -> dict:
    while node and "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node or {}


def _type(schema: dict, node: dict) -> str:
    if "$ref" in node:
        target = _resolve(schema, node)
        name = node["$ref"].rsplit("/", 1)[-1]
        return f"{name} ({', '.join(str(v) for v in target['enum'] if v)})" if "enum" in target else name
    if "allOf" in node:
        return " & ".join(_type(schema, n) for n in node["allOf"])
    if "oneOf" in node:
        return " | ".join(_type(schema, n) for n in node["oneOf"])
    if node.get("type") == "array":
        return f"[{_type(schema, node.get('items', {}))}]"
    kind = node.get("type", "any")
    if "enum" in node:
        kind += " (" + ", ".join(str(v) for v in node["enum"] if v is not None) + ")"
    return kind


def _fields(schema: dict, node: dict | None) -> list[dict]:
    body = _resolve(schema, node)
    required = set(body.get("required", ()))
    return [
        {"name": name, "type": _type(schema, prop), "required": name in required,
         "description": prop.get("description", ""), "read_only": prop.get("readOnly", False)}
        for name, prop in body.get("properties", {}).items()
    ]


def _body(schema: dict, content: dict | None) -> dict | None:
    if not content:
        return None
    media, spec = next(iter(content.items()))
    return {"media": ", ".join(content), "name": _type(schema, spec.get("schema", {})),
            "fields": _fields(schema, spec.get("schema")), "first": media}


def operations(schema: dict) -> list[dict]:
    found = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            responses = [
                {"code": code, "description": r.get("description", ""), "body": _body(schema, r.get("content"))}
                for code, r in op.get("responses", {}).items()
            ]
            found.append({
                "anchor": op.get("operationId", f"{method}-{path}"), "method": method.upper(), "path": path,
                "summary": op.get("summary", ""), "description": op.get("description", ""),
                "tag": (op.get("tags") or [""])[0], "parameters": op.get("parameters", []),
                "request": _body(schema, op.get("requestBody", {}).get("content")), "responses": responses,
            })
    return found


class ApiDocs(TemplateView):
    """/api/docs/: every operation with its parameters, bodies and responses; the raw schema at /api/schema/."""

    template_name = "cases/api_docs.html"

    def get_context_data(self, **kwargs):
        schema = api_schema()
        return {**super().get_context_data(**kwargs), "info": schema["info"], "operations": operations(schema)}

"""OpenAPI generation: drf-spectacular's AutoSchema plus the error answers every operation has."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

ERROR_DESCRIPTIONS = {
    "400": "Invalid input or an unknown query parameter; `fields` says which and why.",
    "401": "No credentials, or a missing, wrong or revoked token.",
    "403": "Signed in and a member, but the role does not allow this.",
    "404": "No such object among those the caller may see (non-members always get 404).",
}


# A plain schema rather than a serializer: a serializer field called "fields" would shadow
# Serializer.fields.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "e.g. not_found, invalid, throttled"},
                "message": {"type": "string", "description": "What went wrong, for people."},
                "fields": {
                    "type": "object",
                    "description": "Field or query parameter -> messages (validation only).",
                    "additionalProperties": {},
                },
            },
        }
    },
}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, description in ERROR_DESCRIPTIONS.items():
            if code not in responses:
                response = self._get_response_for_code(ERROR_SCHEMA, code, None, direction)
                response["description"] = description
                responses[code] = response
        return responses


def require_non_empty_query_strings(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Say in the schema what the API enforces: a query parameter that is sent is not empty."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and schema.get("type") == "string":
                    schema.setdefault("minLength", 1)
    return result

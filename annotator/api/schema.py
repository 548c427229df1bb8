"""OpenAPI generation: drf-spectacular's AutoSchema plus the error answers every operation has."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema

ERROR_DESCRIPTIONS = {
    "400": "Invalid input or an unknown query parameter; `fields` says which and why.",
    "401": "No credentials, or a missing, wrong or revoked token.",
    "403": "Signed in and a member, but the role does not allow this.",
    "404": "No such object among those the caller may see (non-members always get 404).",
    # An id that is not a number can name a sibling action instead (`/annotations/import/`),
    # which answers a method it does not take with 405.
    "405": "The address is another operation's, which does not take this method.",
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
                "request_id": {
                    "type": "string",
                    "description": "The request's id (X-Request-ID), to quote in a report.",
                },
            },
        }
    },
}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
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


# OpenAPI links: how one answer's ids feed the next request (create an article, read it, read
# a sentence, label it, read and remove the label). Clients and stateful testing
# (tests/api/test_schemathesis_stateful.py) follow them.
def _link(operation_id: str, **parameters: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "parameters": {name: f"$response.body#/{pointer}" for name, pointer in parameters.items()},
    }


def _label_link(pointer: str) -> dict[str, Any]:
    """Set the caller's claim type of the sentence whose id is at `pointer`."""
    body = {"sentence": f"$response.body#/{pointer}", "layer": "claim_type", "label": "opinion"}
    return {"operationId": "annotations_create", "requestBody": body}


LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("corpora_create", "201"): {
        "GetCorpus": _link("corpora_retrieve", slug="slug"),
        "GetCorpusSchema": _link("corpora_schema_retrieve", slug="slug"),
        "ChangeCorpus": _link("corpora_partial_update", slug="slug"),
    },
    ("corpora_list", "200"): {"GetCorpus": _link("corpora_retrieve", slug="results/0/slug")},
    ("articles_create", "201"): {
        "GetArticle": _link("articles_retrieve", id="articles/0"),
        "ListSentences": _link("sentences_list", article="articles/0"),
    },
    ("articles_list", "200"): {"GetArticle": _link("articles_retrieve", id="results/0/id")},
    ("articles_retrieve", "200"): {
        "GetSentence": _link("sentences_retrieve", id="sentences/0/id"),
        "LabelSentence": _label_link("sentences/0/id"),
    },
    ("sentences_list", "200"): {"GetSentence": _link("sentences_retrieve", id="results/0/id")},
    ("sentences_retrieve", "200"): {
        "LabelSentence": _label_link("id"),
        "ListLabels": _link("annotations_list", sentence="id"),
    },
    ("annotations_create", "201"): {
        "GetLabel": _link("annotations_retrieve", id="id"),
        "RemoveLabel": _link("annotations_destroy", id="id"),
    },
    ("annotations_create", "200"): {"GetLabel": _link("annotations_retrieve", id="id")},
    ("annotations_list", "200"): {"GetLabel": _link("annotations_retrieve", id="results/0/id")},
    ("memberships_create", "201"): {
        "GetMember": _link("memberships_retrieve", id="id"),
        "ChangeRole": _link("memberships_partial_update", id="id"),
        "RemoveMember": _link("memberships_destroy", id="id"),
    },
}


def add_links(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Attach LINKS to the responses they start from."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                links = LINKS.get((operation.get("operationId"), code))
                if links:
                    response["links"] = links
    return result

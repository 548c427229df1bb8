"""Export options: what an export may ask for, read and written the same way by every entry point.

The options are the fields of the API's `ExportQuerySerializer`, which alone validates them:
the API's query string, the export page's form and `manage.py export_dataset`'s flags all go
through `export_request`. The other direction is here too, so the export page can show the
exact API call and command for the options chosen (`export_query`, `export_command`); a flag
of the command is its option's name with dashes (`only_gold` is `--only-gold`), so an option
added to the serializer reaches the command and the page without another edit.
"""

from __future__ import annotations

import shlex
from argparse import ArgumentParser
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from annotator.api.serializers import ExportQuerySerializer
from annotator.export_queries import ExportRequest

# Option names whose ExportRequest attribute is named differently.
_ATTRIBUTES = {"format": "encoding"}


class ExportOptionsInvalid(ValueError):
    """Some options were refused; `errors` maps each option name to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(
            "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
        )


def option_fields() -> dict[str, serializers.Field]:
    """The options in order, name -> serializer field."""
    return dict(ExportQuerySerializer().fields)


def request_from_validated(options: Mapping[str, Any]) -> ExportRequest:
    """The ExportRequest for the serializer's validated data."""
    return ExportRequest(**{_ATTRIBUTES.get(name, name): value for name, value in options.items()})


def export_request(data: Mapping[str, Any]) -> ExportRequest:
    """Validate options given as strings (a query string, a form, command flags); raises
    ExportOptionsInvalid naming each refused option."""
    # A QueryDict's dict() would hold lists; each option takes its last value.
    query = ExportQuerySerializer(data={name: data[name] for name in data})
    if not query.is_valid():
        errors = {
            name: [str(message) for message in messages] for name, messages in query.errors.items()
        }
        raise ExportOptionsInvalid(errors)
    return request_from_validated(query.validated_data)


def export_query(request: ExportRequest) -> dict[str, str]:
    """`request` as the API's query parameters, options left at their default omitted."""
    query = {}
    for name, field in option_fields().items():
        value = getattr(request, _ATTRIBUTES.get(name, name))
        if value is None or value is False or value == field.default:
            continue
        query[name] = _as_text(value)
    return query


def _as_text(value: object) -> str:
    if value is True:
        return "1"
    if isinstance(value, datetime):
        # UTC with a Z: one spelling, no `+` to escape in a URL or quote in a shell.
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def command_flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def export_command(slug: str, request: ExportRequest, *, output: str | None = None) -> str:
    """The `manage.py export_dataset` command line that writes the same export."""
    fields = option_fields()
    words = [".venv/bin/python", "manage.py", "export_dataset", slug]
    for name, value in export_query(request).items():
        words.append(command_flag(name))
        if not isinstance(fields[name], serializers.BooleanField):
            words.append(value)
    if output:
        words += ["-o", output]
    return shlex.join(words)


def file_name(slug: str, request: ExportRequest) -> str:
    """A file name for the export, as the page suggests it to curl and the command."""
    return f"{slug}-{request.shape}.{request.encoding}"


# The command's side ---------------------------------------------------------------------------


def add_command_arguments(parser: ArgumentParser) -> None:
    """Add a flag per option to `parser` (a switch for yes/no options). Values stay text for
    `export_request` to validate, as the API's query string does."""
    for name, field in option_fields().items():
        flag = command_flag(name)
        help_text = str(field.help_text or field.label or name.replace("_", " "))
        if isinstance(field, serializers.BooleanField):
            parser.add_argument(flag, action="store_true", dest=name, help=help_text)
            continue
        kwargs: dict[str, Any] = {"dest": name, "help": help_text}
        if isinstance(field, serializers.ChoiceField):
            kwargs["choices"] = list(field.choices)
        parser.add_argument(flag, **kwargs)


def options_from_arguments(arguments: Mapping[str, Any]) -> dict[str, str]:
    """The options a command line gave, as the strings `export_request` takes."""
    given: dict[str, str] = {}
    for name, field in option_fields().items():
        value = arguments.get(name)
        if isinstance(field, serializers.BooleanField):
            if value:
                given[name] = "1"
        elif value is not None:
            given[name] = str(value)
    return given

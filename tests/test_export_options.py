"""Export options have one home (annotator/export_options.py over the API's serializer): the
API's query string, the export page and `manage.py export_dataset` read them alike, and each
can be written as the others without losing anything."""

from __future__ import annotations

import shlex
from argparse import ArgumentParser
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command, load_command_class

from annotator.export_options import (
    ExportOptionsInvalid,
    add_command_arguments,
    export_command,
    export_query,
    export_request,
    option_fields,
    options_from_arguments,
)
from annotator.export_queries import ExportRequest

REQUESTS = [
    ExportRequest(),
    ExportRequest(encoding="csv"),
    ExportRequest(shape="long", layer="stance", anonymize=True),
    ExportRequest(encoding="csv", only_gold=True, only_complete=True, layer="claim_type"),
    ExportRequest(
        since=datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
        until=datetime(2026, 6, 1, tzinfo=UTC),
    ),
]


def command_parser() -> ArgumentParser:
    return load_command_class("annotator", "export_dataset").create_parser(
        "manage.py", "export_dataset"
    )


@pytest.mark.parametrize("request_", REQUESTS)
def test_the_api_query_reads_back_as_the_same_request(request_: ExportRequest) -> None:
    assert export_request(export_query(request_)) == request_


@pytest.mark.parametrize("request_", REQUESTS)
def test_the_command_line_reads_back_as_the_same_request(request_: ExportRequest) -> None:
    words = shlex.split(export_command("korea", request_, output="out.jsonl"))

    arguments = vars(command_parser().parse_args(words[3:]))

    assert arguments["slug"] == "korea" and arguments["output"] == "out.jsonl"
    assert export_request(options_from_arguments(arguments)) == request_


def test_defaults_are_left_out_of_the_query_and_the_command() -> None:
    assert export_query(ExportRequest()) == {}
    assert export_command("korea", ExportRequest()) == (
        ".venv/bin/python manage.py export_dataset korea"
    )


def test_every_option_is_a_flag_of_the_command_and_nothing_else_is() -> None:
    parser = ArgumentParser()
    add_command_arguments(parser)
    flags = {action.dest for action in parser._actions if action.dest != "help"}

    command_flags = {action.dest for action in command_parser()._actions}

    assert flags == set(option_fields())
    assert flags <= command_flags
    # The command's own extras: what to do with the export, not which export.
    export_specific = command_flags - flags - {"slug", "card", "output"}
    assert export_specific <= {
        "help",
        "version",
        "verbosity",
        "settings",
        "pythonpath",
        "traceback",
        "no_color",
        "force_color",
        "skip_checks",
    }


def test_refusals_name_the_option() -> None:
    with pytest.raises(ExportOptionsInvalid) as refused:
        export_request({"format": "xlsx", "since": "soon"})

    assert set(refused.value.errors) == {"format", "since"}
    assert "is not a valid choice" in refused.value.errors["format"][0]


@pytest.mark.django_db
def test_the_command_refuses_bad_values_naming_the_flag(corpus: object) -> None:
    with pytest.raises(CommandError, match="--since: Datetime has wrong format"):
        call_command("export_dataset", "korea", "--since", "soon")
    with pytest.raises(CommandError, match="--until: Must be after `since`"):
        call_command("export_dataset", "korea", "--since", "2026-05-02", "--until", "2026-05-01")


@pytest.mark.django_db
def test_long_is_kept_as_a_short_way_to_say_shape_long(corpus: object) -> None:
    short, spelled = StringIO(), StringIO()

    call_command("export_dataset", "korea", "--long", "--since", "2026-05-01", stdout=short)
    call_command(
        "export_dataset", "korea", "--shape", "long", "--since", "2026-05-01", stdout=spelled
    )

    assert vars(command_parser().parse_args(["korea", "--long"]))["shape"] == "long"
    assert short.getvalue() == spelled.getvalue()

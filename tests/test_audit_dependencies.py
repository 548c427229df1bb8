"""The dependency audit's rules (.ci/audit_dependencies.py), on PyPI-shaped data, offline."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "audit_dependencies", ROOT / ".ci" / "audit_dependencies.py"
)
audit = importlib.util.module_from_spec(_spec)
# Its dataclasses look their module up in sys.modules while being defined.
sys.modules[_spec.name] = audit
_spec.loader.exec_module(audit)


def project(latest: str, releases: list[str], vulnerabilities: list[dict] | None = None) -> dict:
    """The parts of https://pypi.org/pypi/<name>/json the audit reads."""
    return {
        "info": {"version": latest},
        "releases": {version: [{"yanked": False}] for version in releases},
        "vulnerabilities": vulnerabilities or [],
    }


ADVISORY = {
    "id": "PYSEC-2026-1",
    "aliases": ["CVE-2026-0001"],
    "fixed_in": ["1.2.1"],
    "withdrawn": None,
}


def test_latest_release_without_advisories_is_clean() -> None:
    verdict = audit.judge_from_pypi(
        audit.Package("lib", "1.2.0"), project("1.2.0", ["1.1.0", "1.2.0"]), None
    )
    assert not verdict.failed
    assert verdict.source == "PyPI (latest release)"


def test_advisory_on_the_latest_release_fails_and_names_id_alias_and_fix() -> None:
    verdict = audit.judge_from_pypi(
        audit.Package("lib", "1.2.0"), project("1.2.0", ["1.2.0"], [ADVISORY]), None
    )
    assert verdict.failed
    assert verdict.vulnerabilities == ["PYSEC-2026-1 (CVE-2026-0001), fixed in 1.2.1"]


def test_withdrawn_advisory_does_not_count() -> None:
    withdrawn = {**ADVISORY, "withdrawn": "2026-02-01T00:00:00Z"}
    verdict = audit.judge_from_pypi(
        audit.Package("lib", "1.2.0"), project("1.2.0", ["1.2.0"], [withdrawn]), None
    )
    assert not verdict.failed


def test_older_release_without_an_exception_is_not_called_clean() -> None:
    verdict = audit.judge_from_pypi(
        audit.Package("lib", "1.1.0"), project("1.2.0", ["1.1.0", "1.2.0"]), None
    )
    assert verdict.failed
    assert "not the latest release (1.2.0)" in verdict.problem
    assert "audit-exceptions.toml" in verdict.problem


def test_held_back_package_on_its_series_newest_release_is_an_explained_exception() -> None:
    held = audit.HeldBack(series="5.2", reason="6.x needs a newer Python")
    verdict = audit.judge_from_pypi(
        audit.Package("django", "5.2.19"),
        project("6.1.3", ["5.2.18", "5.2.19", "6.0.0", "6.1.3", "5.2.20rc1"]),
        held,
    )
    assert not verdict.failed
    assert verdict.source == "exception"
    assert "6.x needs a newer Python" in verdict.note


def test_held_back_package_behind_its_series_newest_release_fails() -> None:
    held = audit.HeldBack(series="5.2", reason="LTS")
    verdict = audit.judge_from_pypi(
        audit.Package("django", "5.2.18"), project("6.1.3", ["5.2.18", "5.2.19", "6.1.3"]), held
    )
    assert verdict.failed
    assert "5.2.19 is out" in verdict.problem


def test_yanked_release_is_not_required() -> None:
    data = project("6.1.3", ["5.2.18", "6.1.3"])
    data["releases"]["5.2.19"] = [{"yanked": True}]
    held = audit.HeldBack(series="5.2", reason="LTS")
    verdict = audit.judge_from_pypi(audit.Package("django", "5.2.18"), data, held)
    assert not verdict.failed


def test_held_back_package_whose_series_has_no_stable_release_is_judged_not_crashed() -> None:
    held = audit.HeldBack(series="6.0", reason="testing the release candidate")
    verdict = audit.judge_from_pypi(
        audit.Package("django", "6.0rc1"), project("5.2.19", ["5.2.19", "6.0rc1"]), held
    )
    assert not verdict.failed and verdict.source == "exception"


def test_held_back_package_outside_its_series_fails() -> None:
    held = audit.HeldBack(series="5.2", reason="LTS")
    verdict = audit.judge_from_pypi(
        audit.Package("django", "5.1.9"), project("6.1.3", ["5.1.9", "6.1.3"]), held
    )
    assert verdict.failed
    assert "outside the series 5.2" in verdict.problem


def test_pip_audit_answer_stands_and_a_skipped_package_is_left_for_pypi() -> None:
    package = audit.Package("lib", "1.0")
    found = audit.judge_from_pip_audit(
        package, {"name": "lib", "vulns": [{"id": "GHSA-x", "fix_versions": ["1.1"]}]}
    )
    assert found.failed and found.vulnerabilities == ["GHSA-x, fixed in 1.1"]
    skipped = {"name": "lib", "skip_reason": "Dependency not found on PyPI"}
    assert audit.judge_from_pip_audit(package, skipped) is None


def test_unpinned_requirement_is_refused_with_file_and_line(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("Django==5.2.19\n# a comment\nrequests>=2\n")
    with pytest.raises(SystemExit, match=r"requirements.txt, line 3: 'requests>=2' is not pinned"):
        audit.pinned_requirements(requirements)


def test_closure_follows_installed_dependencies_and_their_markers() -> None:
    # pytest-django pulls in pytest, which pulls in its own dependencies: all at installed versions.
    packages = {p.name: p.version for p in audit.installed_closure([Requirement("pytest-django")])}
    from importlib import metadata

    assert packages["pytest-django"] == metadata.version("pytest-django")
    assert packages["pytest"] == metadata.version("pytest")
    assert "pluggy" in packages
    # pytest's Windows-only dependency is behind a marker that does not hold here.
    assert "colorama" not in packages


def test_exception_without_series_or_reason_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.toml"
    path.write_text('[held-back.django]\nseries = "5.2"\n')
    with pytest.raises(SystemExit, match=r"\[held-back.django\] needs a series"):
        audit.load_exceptions(path)


def test_the_repository_exceptions_file_is_valid() -> None:
    exceptions = audit.load_exceptions(audit.EXCEPTIONS)
    assert "django" in exceptions
    assert exceptions["django"].series == "5.2"

"""Known vulnerabilities in requirements.txt and everything it pulls in: pip-audit, then PyPI.

Run with the project's virtualenv Python (`make audit`): the packages audited are the pins in
requirements.txt plus their dependencies as installed in that environment, each at its
installed version.

1. pip-audit (`--disable-pip --no-deps` on the exact versions) asks its vulnerability service
   about each package. Where it answers, its verdict stands.
2. A package pip-audit could not audit (here: the PyPI JSON API answers only per project, not per
   release, and OSV is not reachable) is checked against the project's PyPI JSON, whose
   `vulnerabilities` list is PyPI's advisory data (from OSV) for the project's latest release:
   - installed version is the latest release: that list is the audit;
   - installed version is older: held back on purpose only with an entry in
     .ci/audit-exceptions.toml that explains why and names the release series it is held to;
     the installed version must then be the newest release of that series (projects that keep
     a series patch it there when an advisory is published). Anything else fails.

Exit status 0 only when every package was audited or is an explained exception, and none has a
known vulnerability. Without any network answer it fails; it never reports "clean" unchecked.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from tempfile import TemporaryDirectory

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
EXCEPTIONS = Path(__file__).resolve().parent / "audit-exceptions.toml"
PYPI_PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
ATTEMPTS = 3


@dataclass(frozen=True)
class Package:
    name: str
    version: str


@dataclass(frozen=True)
class HeldBack:
    series: str
    reason: str


@dataclass
class Verdict:
    package: Package
    source: str  # "pip-audit", "PyPI (latest release)", "exception", "not audited"
    vulnerabilities: list[str] = field(default_factory=list)
    problem: str = ""
    note: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.vulnerabilities or self.problem)


def pinned_requirements(path: Path) -> list[Requirement]:
    requirements = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        pins = [spec for spec in requirement.specifier if spec.operator == "=="]
        if not pins:
            raise SystemExit(f"{path}, line {number}: {line!r} is not pinned with ==")
        requirements.append(requirement)
    return requirements


def installed_closure(requirements: list[Requirement]) -> list[Package]:
    """The requirements and their dependencies, as installed in the running environment."""
    seen: dict[str, Package] = {}
    pending = [r for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            raise SystemExit(
                f"{requirement.name} is required but not installed in {sys.prefix}: "
                "run `make install` first"
            ) from None
        seen[name] = Package(name, distribution.version)
        # A dependency's marker speaks of the extras asked of its parent ("extra == 'socks'").
        extras = requirement.extras or {""}
        for dependency in distribution.requires or []:
            child = Requirement(dependency)
            if child.marker is None or any(
                child.marker.evaluate({"extra": extra}) for extra in extras
            ):
                pending.append(child)
    return sorted(seen.values(), key=lambda package: package.name)


def load_exceptions(path: Path) -> dict[str, HeldBack]:
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    exceptions = {}
    for name, entry in data.get("held-back", {}).items():
        series, reason = entry.get("series", ""), entry.get("reason", "").strip()
        if not re.fullmatch(r"\d+(\.\d+)*", series) or not reason:
            raise SystemExit(f"{path}: [held-back.{name}] needs a series like '5.2' and a reason")
        exceptions[canonicalize_name(name)] = HeldBack(series, reason)
    return exceptions


def run_pip_audit(packages: list[Package], pip_audit: str) -> dict[str, dict]:
    """pip-audit's JSON entry per package name (with `vulns`, or `skip_reason`)."""
    with TemporaryDirectory() as folder:
        pins = Path(folder) / "pinned.txt"
        pins.write_text("".join(f"{p.name}=={p.version}\n" for p in packages))
        result = subprocess.run(
            [
                pip_audit,
                "--disable-pip",
                "--no-deps",
                "--requirement",
                str(pins),
                "--format",
                "json",
                "--progress-spinner",
                "off",
            ],
            capture_output=True,
            text=True,
        )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit gave no report (exit {result.returncode}):", file=sys.stderr)
        print(result.stderr.strip()[-2000:], file=sys.stderr)
        return {}
    return {canonicalize_name(entry["name"]): entry for entry in report.get("dependencies", [])}


def fetch_project(name: str) -> dict:
    url = PYPI_PROJECT_JSON.format(name=name)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return json.load(response)
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
            if attempt == ATTEMPTS:
                raise RuntimeError(f"{url}: {error}") from error
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def _stable_releases(project: dict) -> list[Version]:
    versions = []
    for raw, files in project.get("releases", {}).items():
        try:
            version = Version(raw)
        except InvalidVersion:
            continue
        if version.is_prerelease or not files or all(f.get("yanked") for f in files):
            continue
        versions.append(version)
    return sorted(versions)


def _in_series(version: Version, series: str) -> bool:
    parts = [int(part) for part in series.split(".")]
    return list(version.release[: len(parts)]) == parts


def judge_from_pypi(package: Package, project: dict, held_back: HeldBack | None) -> Verdict:
    """Verdict for one package from its PyPI project JSON (see the module docstring)."""
    latest = project["info"]["version"]
    installed = Version(package.version)
    if installed == Version(latest):
        vulnerabilities = [
            _describe(vulnerability)
            for vulnerability in project.get("vulnerabilities") or []
            if not vulnerability.get("withdrawn")
        ]
        return Verdict(package, "PyPI (latest release)", vulnerabilities)
    if held_back is None:
        return Verdict(
            package,
            "not audited",
            problem=(
                f"{package.version} is not the latest release ({latest}) and PyPI's reachable "
                "data covers only the latest; upgrade the pin, or explain in "
                ".ci/audit-exceptions.toml why it is held back"
            ),
        )
    if not _in_series(installed, held_back.series):
        return Verdict(
            package,
            "exception",
            problem=(
                f"{package.version} is outside the series {held_back.series} its exception "
                "names; update .ci/audit-exceptions.toml"
            ),
        )
    newest = max(
        (v for v in _stable_releases(project) if _in_series(v, held_back.series)),
        default=installed,  # e.g. a pin on a pre-release of the series: nothing newer to require
    )
    if installed < newest:
        return Verdict(
            package,
            "exception",
            problem=(
                f"{package.version} is held to {held_back.series}.x but {newest} is out: "
                "upgrade to the series' newest release (it carries the security fixes)"
            ),
        )
    return Verdict(
        package,
        "exception",
        note=(
            f"newest {held_back.series}.x release (latest is {latest}); held back: "
            f"{held_back.reason}"
        ),
    )


def _describe(vulnerability: dict) -> str:
    aliases = ", ".join(vulnerability.get("aliases") or [])
    fixed = ", ".join(vulnerability.get("fixed_in") or []) or "no fix yet"
    label = vulnerability.get("id", "unknown id") + (f" ({aliases})" if aliases else "")
    return f"{label}, fixed in {fixed}"


def judge_from_pip_audit(package: Package, entry: dict) -> Verdict | None:
    if "skip_reason" in entry:
        return None
    vulnerabilities = [
        f"{v['id']}, fixed in {', '.join(v.get('fix_versions') or []) or 'no fix yet'}"
        for v in entry.get("vulns", [])
    ]
    return Verdict(package, "pip-audit", vulnerabilities)


def audit(packages: list[Package], exceptions: dict[str, HeldBack], pip_audit: str | None):
    answers = run_pip_audit(packages, pip_audit) if pip_audit else {}
    verdicts: dict[str, Verdict] = {}
    left = []
    for package in packages:
        entry = answers.get(package.name)
        verdict = judge_from_pip_audit(package, entry) if entry else None
        if verdict is None:
            left.append(package)
        else:
            verdicts[package.name] = verdict
    if pip_audit:
        skipped = [answers[p.name]["skip_reason"] for p in left if p.name in answers]
        example = f"; e.g. {skipped[0]!r}" if skipped else ""
        print(
            f"pip-audit checked {len(verdicts)} of {len(packages)}; PyPI's project data is asked "
            f"for the other {len(left)}{example}"
        )

    def from_pypi(package: Package) -> Verdict:
        try:
            project = fetch_project(package.name)
        except RuntimeError as error:
            return Verdict(package, "not audited", problem=f"PyPI unreachable: {error}")
        return judge_from_pypi(package, project, exceptions.get(package.name))

    with ThreadPoolExecutor(max_workers=8) as pool:
        for verdict in pool.map(from_pypi, left):
            verdicts[verdict.package.name] = verdict
    return [verdicts[package.name] for package in packages]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", type=Path, default=ROOT / "requirements.txt")
    parser.add_argument("--exceptions", type=Path, default=EXCEPTIONS)
    parser.add_argument(
        "--pip-audit", help="the pip-audit executable (default: skip straight to PyPI's data)"
    )
    args = parser.parse_args()

    packages = installed_closure(pinned_requirements(args.requirements))
    exceptions = load_exceptions(args.exceptions)
    unused = set(exceptions) - {package.name for package in packages}
    if unused:
        print(f"{args.exceptions}: no such package installed: {', '.join(sorted(unused))}")
        return 1
    print(f"Auditing {len(packages)} packages (requirements.txt and their dependencies)")
    verdicts = audit(packages, exceptions, args.pip_audit)
    width = max(len(f"{v.package.name}=={v.package.version}") for v in verdicts)
    for verdict in verdicts:
        pin = f"{verdict.package.name}=={verdict.package.version}"
        if verdict.vulnerabilities:
            status = "VULNERABLE: " + "; ".join(verdict.vulnerabilities)
        elif verdict.problem:
            status = "FAIL: " + verdict.problem
        else:
            status = "ok" + (f" ({verdict.note})" if verdict.note else "")
        print(f"  {pin:<{width}}  [{verdict.source}] {status}")
    failed = [verdict for verdict in verdicts if verdict.failed]
    by_source: dict[str, int] = {}
    for verdict in verdicts:
        by_source[verdict.source] = by_source.get(verdict.source, 0) + 1
    print(
        f"{len(verdicts) - len(failed)} of {len(verdicts)} packages clean "
        f"({', '.join(f'{count} by {source}' for source, count in sorted(by_source.items()))}); "
        f"{len(failed)} failing"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

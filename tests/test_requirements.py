"""requirements.txt holds what the app runs with; requirements-dev.txt adds the tools.

`make run` installs requirements.txt only, so no module of the app may import a package that
only requirements-dev.txt brings (the app would then fail on a fresh `make run`).
"""

from __future__ import annotations

import ast
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r "):
            continue
        requirement = Requirement(line)
        assert str(requirement.specifier).startswith("=="), f"{path.name}: {line} is not pinned"
        found[canonicalize_name(requirement.name)] = str(requirement.specifier)
    return found


def imported_top_level_modules(folder: Path) -> dict[str, list[str]]:
    """Top-level module name -> files of `folder` that import it (lazy imports included)."""
    found: dict[str, list[str]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], []).append(str(path.relative_to(ROOT)))
    return found


def test_dev_requirements_build_on_the_runtime_ones_without_repeating_them() -> None:
    runtime = pins(ROOT / "requirements.txt")
    dev = pins(ROOT / "requirements-dev.txt")

    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert set(runtime) & set(dev) == set()
    assert {"pytest", "ruff", "playwright", "locust", "pandas", "mypy"} <= set(dev)
    assert {"django", "gunicorn", "python-dotenv", "python-json-logger"} <= set(runtime)


def installed_closure(names: set[str]) -> set[str]:
    """`names` and everything they pull in (without extras), as installed here."""
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for raw in metadata.requires(name) or []:
            requirement = Requirement(raw)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(canonicalize_name(requirement.name))
    return seen


def test_the_app_imports_no_package_that_only_the_dev_requirements_install() -> None:
    runtime = installed_closure(set(pins(ROOT / "requirements.txt")))
    dev_only = installed_closure(set(pins(ROOT / "requirements-dev.txt"))) - runtime
    providers = metadata.packages_distributions()  # module -> distributions that ship it
    offending = {
        module: files
        for module, files in imported_top_level_modules(ROOT / "annotator").items()
        if (dists := {canonicalize_name(d) for d in providers.get(module, [])})
        and dists & dev_only
        and not dists & runtime
    }

    assert offending == {}
    # The check can fail: the test tools and what they pull in are dev-only modules.
    assert {"pytest", "pandas", "statsmodels", "requests"} <= dev_only

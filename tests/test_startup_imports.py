"""What a web process loads when it starts: the URLconf imports every view, and the views of
model assistance must not pull in scikit-learn or SciPy's sparse matrices (about 2 s of imports
per process), nor the release views pyarrow and pandas; training, prediction and release builds
import them where they run. Which modules load is deterministic where seconds are not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_loading_every_view_leaves_scikit_learn_and_scipy_sparse_unloaded():
    result = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import django; django.setup(); import annotator.urls",
        ],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "annotator.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert {"annotator.views.curation", "annotator.assisting", "annotator.modelling"} <= imported
    assert not imported & {"sklearn", "scipy.sparse"}
    # Releases are built by the worker; the pages and the API that list, cut and serve them
    # go through releases.catalog, so pyarrow and pandas (about 80 MB a process) stay out.
    assert {"annotator.views.releases", "annotator.releases.catalog"} <= imported
    assert not imported & {"pyarrow", "pandas", "annotator.releases.building"}


def test_queueing_a_release_build_loads_neither_pyarrow_nor_pandas():
    # cut_release queues the task from the web process; only the worker builds.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, sys; django.setup(); import annotator.urls, annotator.releases.tasks; "
            "print(sorted(m for m in ('pyarrow', 'pandas') if m in sys.modules))",
        ],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "annotator.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"

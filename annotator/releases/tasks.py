"""The background task that builds a release (django-tasks, run by `manage.py db_worker`)."""

from __future__ import annotations

from django_tasks import task


@task()
def build_release_task(release_id: int) -> dict[str, object]:
    """Build a queued release; the release row ends ready or failed with the reason."""
    # Imported here: web processes import this module to queue the task (catalog.cut_release)
    # and must not load pyarrow and pandas for it; the worker loads them when it builds.
    from annotator.releases.building import build_release

    release = build_release(release_id)
    return {"release": release.pk, "number": release.number, "status": release.status}

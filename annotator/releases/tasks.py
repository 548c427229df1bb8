"""The background task that builds a release (django-tasks, run by `manage.py db_worker`)."""

from __future__ import annotations

from django_tasks import task

from annotator.releases.building import build_release


@task()
def build_release_task(release_id: int) -> dict[str, object]:
    """Build a queued release; the release row ends ready or failed with the reason."""
    release = build_release(release_id)
    return {"release": release.pk, "number": release.number, "status": release.status}

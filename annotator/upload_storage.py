"""Uploads waiting for their background import, kept in the database as ordered chunks.

A web host writes the upload; a worker, maybe on another machine, reads it back; nothing is
left on any one host's disk (README.md, "Production": several web hosts, one database). The
pieces are BinaryField rows (annotator.models.UploadChunk), so SQLite (`make run`) and
PostgreSQL store them alike.
"""

from __future__ import annotations

from pathlib import Path

from django.core.files.base import File

from annotator.models import ImportJob, UploadChunk

# One row per MiB: small enough for a single INSERT or fetch, few enough rows for 200 MB.
CHUNK_BYTES = 1024 * 1024
# Chunks fetched per round trip while the worker reads an upload back.
READ_AHEAD_CHUNKS = 4


def store_upload(job: ImportJob, content: File) -> int:
    """Store `content` as `job`'s upload; returns its size in bytes. Call inside the
    transaction that creates the job, so a failure leaves neither behind."""
    size = 0
    for ordinal, data in enumerate(content.chunks(CHUNK_BYTES)):
        UploadChunk.objects.create(job=job, ordinal=ordinal, data=data)
        size += len(data)
    ImportJob.objects.filter(pk=job.pk).update(upload_bytes=size)
    job.upload_bytes = size
    return size


def write_upload(job: ImportJob, destination: Path) -> None:
    """Write `job`'s stored upload to the file `destination`, a piece at a time."""
    pieces = (
        UploadChunk.objects.filter(job=job)
        .order_by("ordinal")
        .values_list("data", flat=True)
        .iterator(chunk_size=READ_AHEAD_CHUNKS)
    )
    with destination.open("wb") as out:
        for data in pieces:
            out.write(data)


def discard_upload(job: ImportJob) -> None:
    """Drop `job`'s stored upload once it can no longer be needed (imported or rejected)."""
    UploadChunk.objects.filter(job=job).delete()
    ImportJob.objects.filter(pk=job.pk).update(upload_bytes=0)
    job.upload_bytes = 0

"""The background worker: django-tasks-db's `db_worker` that outlives database trouble, says it
is alive, and recovers the jobs of workers that died.

- **Retries**: a database error (a restart, "too many connections", a killed backend) no longer
  ends the process. The worker closes its connections, waits (0.5 s, doubling up to
  settings.WORKER_RETRY_MAX_SECONDS) and polls again.
- **Heartbeat**: a thread of its own writes a WorkerHeartbeat row every
  WORKER_HEARTBEAT_SECONDS with the task it is running, on a connection of its own, so the beat
  goes on during a long import. `worker_status()` reads it for the import page and /readyz.
- **Recovery**: the same thread sweeps every few beats for tasks left RUNNING by a worker that
  has not beaten for WORKER_LEASE_SECONDS (killed, its machine gone), or that a live worker is
  no longer running. An import is all or nothing, so it is started again from the beginning
  (tasks.recover_import decides, up to IMPORT_MAX_ATTEMPTS runs, then fails it for Retry);
  any other task is marked failed with the reason. Import jobs left queued or running with no
  task to finish them are recovered the same way.
- **Stopping**: Ctrl-C or SIGTERM lets a running task finish for WORKER_STOP_GRACE_SECONDS,
  then interrupts it; an interrupted import goes back to the queue, not counted as an attempt.

On SQLite (`make run`) there is one writer at a time, so the heartbeat pauses while a task
runs (a write beside the task's transaction could fail it); the sweep then also asks the
operating system whether a worker on the same host still exists before it calls that worker's
task lost.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models.functions import Now
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from annotator.models import ImportJob, ImportStatus, WorkerHeartbeat
from annotator.tasks import import_upload, recover_import

logger = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 0.5
# Sweep for lost tasks once every this many heartbeats.
SWEEP_EVERY_BEATS = 3
# Heartbeat rows of workers gone for this long are deleted.
FORGET_AFTER = timedelta(days=1)
LOST_REASON = (
    "The background worker running this import stopped (killed, or cut off from the database)."
)


class WorkerLost(Exception):
    """Recorded as a task's error when the worker running it disappeared."""


@dataclass(frozen=True)
class WorkerStatus:
    """Whether a worker has been seen within the lease, and when one was last seen."""

    alive: bool
    last_seen: datetime | None


def worker_status() -> WorkerStatus:
    """The latest heartbeat against the database's clock: one query."""
    row = (
        WorkerHeartbeat.objects.annotate(now=Now())
        .order_by("-seen_at")
        .values_list("seen_at", "now")
        .first()
    )
    if row is None:
        return WorkerStatus(alive=False, last_seen=None)
    seen_at, now = row
    lease = timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    return WorkerStatus(alive=now - seen_at <= lease, last_seen=seen_at)


class Worker(DatabaseWorker):
    """django-tasks-db's worker with retries, a heartbeat and recovery (module docstring)."""

    def __init__(self, **options: Any) -> None:  # passed through to DatabaseWorker
        super().__init__(**options)
        self.hostname = socket.gethostname()
        self.current_task: UUID | None = None
        self._heartbeat = threading.Thread(target=self._beat_forever, name="heartbeat")
        self._heartbeat.daemon = True
        self._stopped = threading.Event()
        self._task_lock = threading.Lock()

    def run(self) -> None:
        self._heartbeat.start()
        failures = 0
        try:
            while True:
                started = time.monotonic()
                try:
                    super().run()
                    return
                except DatabaseError as error:
                    if time.monotonic() - started > settings.WORKER_RETRY_MAX_SECONDS:
                        failures = 0  # it worked for a while: start the backoff afresh
                    failures += 1
                    delay = retry_delay(failures)
                    logger.warning(
                        "Worker %s: database error (%s); trying again in %.1f s",
                        self.worker_id,
                        str(error).strip() or type(error).__name__,
                        delay,
                    )
                    connections.close_all()
                    if not self.running:
                        return
                    time.sleep(delay)
        finally:
            self._stopped.set()

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self.current_task = db_task_result.id
        try:
            if connections["default"].vendor == "sqlite":
                with self._task_lock:  # no heartbeat writes while it runs (see _beat_forever)
                    super().run_task(db_task_result)
            else:
                super().run_task(db_task_result)
        finally:
            self.current_task = None

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if self.running and self.running_task:
            # The second signal interrupts the task (django-tasks-db); send it ourselves if the
            # task has not finished in time.
            grace = settings.WORKER_STOP_GRACE_SECONDS
            timer = threading.Timer(grace, self._interrupt, args=[signum])
            timer.daemon = True
            timer.start()
        super().shutdown(signum, frame)

    def _interrupt(self, signum: int) -> None:
        if self.running_task:
            logger.warning("Worker %s: interrupting the running task to stop", self.worker_id)
            os.kill(os.getpid(), signum)

    # The heartbeat thread ------------------------------------------------------------------

    def _beat_forever(self) -> None:
        beats = 0
        while not self._stopped.is_set():
            connection = connections["default"]
            # SQLite has one writer at a time: a heartbeat written beside a task's transaction
            # could make that transaction fail to upgrade to writing ("database is locked").
            if connection.vendor != "sqlite" or self._task_lock.acquire(blocking=False):
                try:
                    connection.close_if_unusable_or_obsolete()
                    self.beat()
                    if beats % SWEEP_EVERY_BEATS == 0:
                        recover_lost_tasks(backend_name=self.backend_name, hostname=self.hostname)
                    beats += 1
                except DatabaseError as error:
                    logger.warning("Worker %s: heartbeat failed (%s)", self.worker_id, error)
                    connection.close()
                finally:
                    if connection.vendor == "sqlite":
                        self._task_lock.release()
            self._stopped.wait(settings.WORKER_HEARTBEAT_SECONDS)
        connections.close_all()

    def beat(self) -> None:
        seen = WorkerHeartbeat.objects.filter(worker_id=self.worker_id).update(
            seen_at=Now(), running_task=self.current_task
        )
        if not seen:
            WorkerHeartbeat.objects.create(
                worker_id=self.worker_id,
                hostname=self.hostname,
                pid=os.getpid(),
                started_at=Now(),
                seen_at=Now(),
                running_task=self.current_task,
            )


def retry_delay(failures: int) -> float:
    """Seconds to wait after `failures` database errors in a row: doubling, capped, jittered
    so that workers restarted together do not reconnect together."""
    ceiling = min(RETRY_FIRST_SECONDS * 2 ** (failures - 1), settings.WORKER_RETRY_MAX_SECONDS)
    return ceiling * random.uniform(0.5, 1.0)


def recover_lost_tasks(*, backend_name: str, hostname: str) -> int:
    """Start again, or fail, every task whose worker is gone; returns how many were found."""
    lease = timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    beats = {beat.worker_id: beat for beat in WorkerHeartbeat.objects.annotate(now=Now())}
    running = DBTaskResult.objects.running().filter(backend_name=backend_name).annotate(now=Now())
    lost = 0
    for task in running:
        if task.started_at is None or task.now - task.started_at <= lease:
            continue  # just claimed: its worker may not have beaten since
        beat = beats.get(task.worker_ids[-1]) if task.worker_ids else None
        if beat is None:
            reason = "no heartbeat from its worker"
        elif beat.now - beat.seen_at > lease and not _alive_here(beat, hostname):
            reason = f"its worker was last seen at {beat.seen_at:%Y-%m-%d %H:%M:%S %Z}"
        elif beat.running_task != task.id and beat.now - beat.seen_at <= lease:
            reason = "its worker is no longer running it"
        else:
            continue
        lost += _recover_task(task.pk, reason)
    lost += _recover_orphaned_jobs(backend_name, lease)
    WorkerHeartbeat.objects.filter(seen_at__lt=Now() - FORGET_AFTER).delete()
    return lost


def _recover_task(task_id: UUID, reason: str) -> int:
    with exclusive_transaction():
        task = (
            DBTaskResult.objects.select_for_update(skip_locked=True)
            .filter(pk=task_id, status=TaskResultStatus.RUNNING)
            .first()
        )
        if task is None:
            return 0  # finished meanwhile, or another worker is recovering it
        logger.warning("Task %s (%s) was lost: %s", task.pk, task.task_path, reason)
        if task.task_path == import_upload.module_path and recover_import(
            task.args_kwargs["args"][0], reason=LOST_REASON
        ):
            task.status = TaskResultStatus.READY
            task.started_at = None
            task.save(update_fields=["status", "started_at"])
        else:
            task.set_failed(WorkerLost(f"The worker running this task stopped: {reason}."))
            _fail_lost_work(task, reason)
    return 1


def _fail_lost_work(task: DBTaskResult, reason: str) -> None:
    """A training run or release build whose task was lost ends failed, saying why; without
    this its row would say "running" or "building" for good."""
    # Imported here: web processes import this module (worker_status) and need neither.
    from annotator.assisting import fail_lost_training
    from annotator.releases.catalog import fail_lost_build
    from annotator.releases.tasks import build_release_task
    from annotator.tasks import train_model

    fail = {
        train_model.module_path: fail_lost_training,
        build_release_task.module_path: fail_lost_build,
    }.get(task.task_path)
    if fail is not None:
        fail(task.args_kwargs["args"][0], reason=reason)


def _recover_orphaned_jobs(backend_name: str, lease: timedelta) -> int:
    """Import jobs still queued or running that no ready or running task will finish."""
    waiting = ImportJob.objects.filter(
        status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING],
        created_at__lt=Now() - lease,
    ).values_list("pk", flat=True)
    lost = 0
    for job_id in waiting:
        with transaction.atomic():
            pending = DBTaskResult.objects.filter(
                backend_name=backend_name,
                task_path=import_upload.module_path,
                status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
                args_kwargs__args__0=job_id,
            )
            if pending.exists():
                continue
            logger.warning("Import job %s has no task to run it; recovering it", job_id)
            if recover_import(job_id, reason=LOST_REASON):
                import_upload.using(backend=backend_name).enqueue(job_id)
            lost += 1
    return lost


def _alive_here(beat: WorkerHeartbeat, hostname: str) -> bool:
    """Whether `beat`'s worker runs on this host and its process still exists (not a zombie
    its parent has yet to reap)."""
    if beat.hostname != hostname:
        return False
    if Path("/proc/self").exists():
        try:
            stat = Path(f"/proc/{beat.pid}/stat").read_text()
        except OSError:
            return False
        # The state letter follows the parenthesised command name.
        return stat.rpartition(")")[2].split()[0] != "Z"
    try:
        os.kill(beat.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True

"""Database sessions, Django's own, read with one plain SQL statement.

Every signed-in request loads its session first. Django's database backend does it through
the ORM, whose query building costs several times the query itself (0.55 ms of CPU against
0.06 ms measured for a label save, which is otherwise a few plain statements). The table,
the rows, expiry, saving and clearing stay Django's (`SESSION_ENGINE = "annotator.sessions"`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.sessions.base_session import AbstractBaseSession

_SELECT = (
    f"SELECT session_data FROM {Session._meta.db_table} WHERE session_key = %s AND expire_date > %s"
)


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> AbstractBaseSession | None:
        if not self.session_key:
            return None
        alias = router.db_for_read(self.model)
        with connections[alias].cursor() as cursor:
            cursor.execute(_SELECT, [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            # As Django's backend does: an unknown or expired key starts a new session.
            self._session_key = None
            return None
        return self.model(session_key=self.session_key, session_data=row[0])

"""Engines and transactions: SQLite (WAL, busy timeout, BEGIN IMMEDIATE) or PostgreSQL."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bot.base import audit_key, eventlog

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Hot paths (intake) run Core statements on a Connection; the rest use an ORM Session.
Executor = Session | Connection


class Database:
    """One database: `write()` transactions take the write lock up front; `read()` do not."""

    def __init__(self, url: str, audit_key: str | None = None) -> None:
        self.url = url
        # Every event written through this database is MACed under it (bot.base.audit_key).
        self.audit_key = audit_key
        self.dialect = make_url(url).get_backend_name()
        # SQLite allows one writer; queueing our own threads on a mutex is far cheaper than
        # SQLite's busy handler, which sleeps for milliseconds between retries.
        self._writer: AbstractContextManager[object] = (
            threading.Lock() if self.dialect == "sqlite" else nullcontext()
        )
        if self.is_sqlite:
            _ensure_sqlite_dir(url)
            self.write_engine = _sqlite_engine(url, begin="BEGIN IMMEDIATE")
            self.read_engine = _sqlite_engine(url, begin="BEGIN")
        else:
            self.write_engine = create_engine(
                url, pool_size=10, max_overflow=20, pool_pre_ping=True
            )
            self.read_engine = self.write_engine

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded default."""
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception."""
        with self._writer, Session(self.write_engine, expire_on_commit=False) as session:
            committed: list[dict[str, Any]] = []
            session.info[eventlog.PENDING] = committed
            session.info[audit_key.INFO] = self.audit_key
            with session.begin():
                yield session
            eventlog.emit(committed)

    @contextmanager
    def write_core(self) -> Iterator[Connection]:
        """Like write(), on a bare Connection: no ORM bookkeeping, for the intake hot path."""
        with self._writer:
            with self.write_engine.begin() as conn:
                committed: list[dict[str, Any]] = []
                conn.info[eventlog.PENDING] = committed
                conn.info[audit_key.INFO] = self.audit_key
                yield conn
            eventlog.emit(committed)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work; objects stay readable after it closes (never commits)."""
        with Session(self.read_engine, expire_on_commit=False) as session:
            yield session

    def upgrade(self) -> None:
        """Apply every Alembic migration up to head; one log line says what changed."""
        from alembic import command

        before = self.revision()
        if before is not None and before == head_revision():
            return  # every start after the first: no need to load Alembic's environment
        command.upgrade(alembic_config(self.url), "head")
        after = self.revision()
        if after != before:
            log.info("database schema upgraded from %s to %s", before or "empty", after)

    def revision(self) -> str | None:
        """The Alembic revision the database is at (None before the first migration)."""
        from alembic.runtime.migration import MigrationContext

        with self.write_engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


@cache
def head_revision() -> str | None:
    """The newest migration this code ships (read once per process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def alembic_config(url: str) -> Any:
    """An Alembic Config pointing at the packaged migrations and this database."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def _ensure_sqlite_dir(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        # Create the file owner-only before SQLite does (it would use 0644 under the usual
        # umask); SQLite gives its -wal and -shm files the database file's permissions.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _sqlite_engine(url: str, *, begin: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so our BEGIN is the one that runs.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: this runs once per transaction, on the hottest path.
        conn.connection.dbapi_connection.execute(begin)

    return engine

"""Shared fixtures: a fresh database on each backend, settings, and the sandbox Asterisk."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dialer.bootstrap import Storage, open_storage
from dialer.settings import Settings, load_settings

POSTGRES_ADMIN = os.environ.get("UPRAVDOLG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_database() -> Iterator[str]:
    name = f"upravdolg_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'upravdolg.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def storage(settings: Settings) -> Iterator[Storage]:
    """The migrated database with its default organisation; disposed after the test."""
    with open_storage(settings) as opened:
        yield opened


@pytest.fixture
def settings(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    monkeypatch.chdir(tmp_path)
    return load_settings(environ={**os.environ, "UPRAVDOLG_DATABASE_URL": database_url})

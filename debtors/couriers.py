"""Courier accounts and their links. A courier logs in by a secret link (one per courier, shown once);
only its SHA-256 is stored, so a leaked database does not leak the links, and a new link ends the old."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import Courier, Notice
from debtors.field_reports import Conflict, NotFound
from debtors.field_rules import NoticeState

TOKEN_BYTES = 24


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CourierAccount:
    id: int
    name: str
    phone: str
    active: bool


def _account(courier: Courier) -> CourierAccount:
    return CourierAccount(courier.id, courier.name, courier.phone, courier.disabled_at is None)


def add_courier(
    session: Session, organisation_id: int, name: str, *, phone: str = "", now: datetime
) -> tuple[CourierAccount, str]:
    """A new courier and their link's token (shown once)."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise Conflict("a courier needs a name of 1 to 200 characters")
    if session.scalar(
        select(Courier.id).where(Courier.organisation_id == organisation_id, Courier.name == name)
    ):
        raise Conflict(f"courier {name!r} already exists", hint="give a new link with `couriers link`")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    courier = Courier(
        organisation_id=organisation_id,
        name=name,
        phone=phone.strip()[:30],
        token_hash=token_hash(token),
        created_at=now,
    )
    session.add(courier)
    session.flush()
    return _account(courier), token


def find_courier(session: Session, organisation_id: int, name: str) -> Courier:
    courier = session.scalar(
        select(Courier).where(
            Courier.organisation_id == organisation_id, Courier.name == " ".join(name.split())
        )
    )
    if courier is None:
        raise NotFound(f"no courier named {name!r}", hint="see `upravdolg couriers list`")
    return courier


def new_link(session: Session, organisation_id: int, name: str) -> str:
    """A new token for the courier; their old link stops working."""
    courier = find_courier(session, organisation_id, name)
    if courier.disabled_at is not None:
        raise Conflict(f"courier {courier.name!r} is disabled")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    courier.token_hash = token_hash(token)
    return token


def disable_courier(session: Session, organisation_id: int, name: str, *, now: datetime) -> CourierAccount:
    """Disable a courier: their link ends, and the notices they held undelivered go back to be assigned."""
    courier = find_courier(session, organisation_id, name)
    if courier.disabled_at is None:
        courier.disabled_at = now
        courier.token_hash = token_hash(secrets.token_urlsafe(TOKEN_BYTES))  # the link ends too
        session.execute(
            update(Notice)
            .where(Notice.courier_id == courier.id, Notice.state == NoticeState.ASSIGNED.value)
            .values(state=NoticeState.PENDING.value, courier_id=None, assigned_at=None)
        )
    return _account(courier)


def list_couriers(session: Session, organisation_id: int) -> list[CourierAccount]:
    return [
        _account(c)
        for c in session.scalars(
            select(Courier).where(Courier.organisation_id == organisation_id).order_by(Courier.name)
        )
    ]


def courier_by_token(session: Session, token: str) -> Courier | None:
    """The active courier this token belongs to, if any."""
    if not token or len(token) > 200:
        return None
    courier = session.scalar(select(Courier).where(Courier.token_hash == token_hash(token)))
    if courier is None or courier.disabled_at is not None:
        return None
    return courier


def courier_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/courier/{token}"

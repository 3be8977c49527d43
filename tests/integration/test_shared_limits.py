"""The limits several workers share through the database (dialer/campaign_store.py `claim`, docs/
scale-out.md), on SQLite and PostgreSQL: the campaign's channels and rate, the trunks' channels and rate,
failover, one claim per debtor across campaigns; and the workers' leases and adoption
(dialer/worker_store.py). Each "worker" here is a CampaignStore of its own name, as each `upravdolg run`
process has."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import CallAttempt, Trunk, Worker
from debtors.registry_import import import_debtors
from dialer.bootstrap import Storage, make_campaign_store
from dialer.campaign_spec import parse_spec
from dialer.campaign_store import CALLING, CampaignStore, Nothing, RunningCampaign, Ticket
from dialer.campaigns import apply_spec, set_state
from dialer.settings import Settings
from dialer.topology import AsteriskServer, TrunkConfig
from dialer.worker_store import WorkerConflict, WorkerStore, live_calls_by
from tests.fixtures.registry_files import write_csv

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
HEADERS = ["Лицевой счёт", "ФИО", "Адрес", "Сумма задолженности", "Телефон"]
ALWAYS = {"weekdays": "00:00-24:00", "weekends": "00:00-24:00"}
TRUNKS = (
    TrunkConfig(name="a1", server="ast1", endpoint="sim", max_channels=2, priority=10, groups=("city",)),
    TrunkConfig(name="b1", server="ast2", endpoint="prov-b", max_channels=3, priority=5, groups=("city",)),
)


@pytest.fixture
def scaled(settings: Settings, storage: Storage, tmp_path: Path) -> Settings:
    rows = [
        [f"{700 + i}", f"Должник {i}", f"ул. Общая, д. {i}", "5 000,00", f"+79125550{i:03d}"]
        for i in range(40)
    ]
    import_debtors(storage.sessions, storage.organisation_id, write_csv(tmp_path / "l.csv", [HEADERS, *rows]),
                   now=NOW)  # fmt: skip
    return settings.model_copy(
        update={
            "asterisk": (AsteriskServer(name="ast1"), AsteriskServer(name="ast2", host="10.0.0.2")),
            "trunks": TRUNKS,
        }
    )


def campaign(storage: Storage, store: CampaignStore, **fields: object) -> RunningCampaign:
    spec = parse_spec(
        {"name": "Общая", "trunk": "city", "max_channels": 4, "calls_per_second": 100.0, "window": ALWAYS,
         **fields},
        source="test",
    )  # fmt: skip
    apply_spec(storage.sessions, storage.organisation_id, spec, NOW)
    set_state(storage.sessions, storage.organisation_id, spec.name, "running", NOW)
    (running,) = [c for c in store.running() if c.name == spec.name]
    store.select_debtors(running.id, running.spec, NOW)
    return running


def worker(settings: Settings, storage: Storage, name: str) -> CampaignStore:
    store = make_campaign_store(settings, storage)
    store.worker = name
    assert store.sync_trunks(NOW) == []
    return store


def live(storage: Storage) -> int:
    with storage.sessions() as session:
        return (
            session.scalar(
                select(func.count()).select_from(CallAttempt).where(CallAttempt.state.in_(("dialling", "up")))
            )
            or 0
        )


def test_the_campaigns_channels_hold_across_workers_and_trunks_fill_by_priority(
    scaled: Settings, storage: Storage
) -> None:
    one, two = worker(scaled, storage, "w1"), worker(scaled, storage, "w2")
    running = campaign(storage, one)
    tickets = []
    for store in (one, two, one, two, one):
        tickets.append(store.claim(running, NOW + timedelta(seconds=len(tickets))))
    placed = [t for t in tickets if isinstance(t, Ticket)]
    assert len(placed) == 4 and live(storage) == 4, "max_channels = 4 across both workers"
    assert tickets[-1] == Nothing(CALLING, None), "the fifth claim: every channel of the campaign is busy"
    # priority 10 first until its 2 channels are full, then the priority-5 trunk on the other server
    assert [(t.trunk, t.server) for t in placed] == [
        ("a1", "ast1"),
        ("a1", "ast1"),
        ("b1", "ast2"),
        ("b1", "ast2"),
    ]
    assert placed[0].dial_string.startswith("Local/") and placed[2].dial_string.endswith("@prov-b")
    with storage.sessions() as session:
        workers = dict(session.execute(select(CallAttempt.id, CallAttempt.worker)).all())
    assert [workers[t.attempt_id] for t in placed] == ["w1", "w2", "w1", "w2"]
    one.release()
    two.release()


def test_a_down_trunk_fails_over_and_all_down_says_why(scaled: Settings, storage: Storage) -> None:
    store = worker(scaled, storage, "w1")
    running = campaign(storage, store)
    down = {"a1": (False, "ast1: нет связи с AMI")}
    ticket = store.claim(running, NOW, down)
    assert isinstance(ticket, Ticket) and ticket.trunk == "b1"
    both = {**down, "b1": (False, "b1: сбои вызовов (congestion)")}
    refused = store.claim(running, NOW + timedelta(seconds=1), both)
    assert refused == Nothing(
        "все линии недоступны (ast1: нет связи с AMI; b1: сбои вызовов (congestion))", None
    )
    store.release()


def test_the_rates_are_shared(scaled: Settings, storage: Storage) -> None:
    """2 calls/s for the campaign: two workers claiming at the same instant get one call between them."""
    one, two = worker(scaled, storage, "w1"), worker(scaled, storage, "w2")
    running = campaign(storage, one, calls_per_second=2.0)
    assert isinstance(one.claim(running, NOW), Ticket)
    assert two.claim(running, NOW + timedelta(milliseconds=100)) == Nothing(
        "ограничение скорости кампании", NOW + timedelta(milliseconds=500)
    )
    assert isinstance(two.claim(running, NOW + timedelta(milliseconds=500)), Ticket)
    one.release()
    two.release()


def test_an_unknown_trunk_group_is_named(scaled: Settings, storage: Storage) -> None:
    store = worker(scaled, storage, "w1")
    running = campaign(storage, store, trunk="nowhere")
    refused = store.claim(running, NOW)
    assert refused == Nothing("линия или группа линий «nowhere» не настроена (есть: a1, b1, city)", None)
    store.release()


@pytest.mark.postgres
def test_concurrent_claimers_never_overshoot(scaled: Settings, storage: Storage) -> None:
    """Eight threads, each its own worker and connection, claim at once: never more than max_channels."""
    if storage.engine.dialect.name != "postgresql":
        pytest.skip("several workers need PostgreSQL (SQLite runs one)")
    setup = worker(scaled, storage, "setup")
    running = campaign(storage, setup, max_channels=3)
    setup.release()
    results: list[Ticket | Nothing] = []
    lock = threading.Lock()
    gate = threading.Barrier(8)

    def claim(index: int) -> None:
        store = worker(scaled, storage, f"t{index}")
        gate.wait()
        for step in range(3):
            got = store.claim(running, NOW + timedelta(seconds=step))
            with lock:
                results.append(got)
        store.release()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(isinstance(r, Ticket) for r in results) == 3
    assert live(storage) == 3
    with storage.sessions() as session:
        assert live_calls_by(session, "trunk") == {"a1": 2, "b1": 1}


def test_trunks_are_synced_and_a_different_configuration_is_reported(
    scaled: Settings, storage: Storage
) -> None:
    worker(scaled, storage, "w1").release()
    other = scaled.model_copy(
        update={"trunks": (TRUNKS[0].model_copy(update={"max_channels": 9}), TRUNKS[1])}
    )
    store = make_campaign_store(other, storage)
    store.worker = "w2"
    (warning,) = store.sync_trunks(NOW)
    assert warning.startswith(
        "trunk a1: configured differently by worker w1 (server ast1, endpoint sim, max_channels 2"
    )
    assert "now server ast1, endpoint sim, max_channels 9" in warning
    with storage.sessions() as session:
        row = session.get_one(Trunk, "a1")
        assert (row.max_channels, row.configured_by) == (9, "w2")
    store.release()


def test_leases_adoption_and_the_embedded_database(scaled: Settings, storage: Storage) -> None:
    lease = timedelta(seconds=10)
    one = WorkerStore(storage.sessions, "w1", lease=lease)
    one.register(["ast1"], NOW)
    store = worker(scaled, storage, "w1")
    running = campaign(storage, store)
    ticket = store.claim(running, NOW)
    assert isinstance(ticket, Ticket)
    store.release()
    two = WorkerStore(storage.sessions, "w2", lease=lease)
    if storage.engine.dialect.name == "sqlite":
        with pytest.raises(WorkerConflict, match="the embedded database runs one worker"):
            two.register(["ast1"], NOW + timedelta(seconds=1))
        two.single_writer = False  # the rest is the same on both backends
    two.register(["ast1"], NOW + timedelta(seconds=1))
    twin = WorkerStore(storage.sessions, "w1", lease=lease)
    twin.host = "another-host"
    with pytest.raises(WorkerConflict, match="worker name 'w1' is in use by a live worker"):
        twin.register(["ast1"], NOW + timedelta(seconds=2))
    assert one.heartbeat(NOW + timedelta(seconds=5))
    assert two.expired(NOW + timedelta(seconds=14)) == [], "w1's lease is fresh until 15 s"
    later = NOW + timedelta(seconds=20)
    assert two.expired(later) == ["w1"]
    (adopted,) = two.adopt("w1", later) or []
    assert (adopted.attempt_id, adopted.server, adopted.trunk) == (ticket.attempt_id, "ast1", "a1")
    assert two.adopt("w1", later) is None, "adopted once"
    with storage.sessions() as session:
        assert session.get_one(CallAttempt, ticket.attempt_id).worker == "w2"
        assert session.get_one(Worker, "w1").adopted_by == "w2"
    assert not one.heartbeat(later), "w1 comes back: its lease was taken, it must register again"
    one.register(["ast1"], later)
    assert one.heartbeat(later + timedelta(seconds=1))
    two.stop(later)
    with storage.sessions() as session:
        assert session.get_one(Worker, "w2").stopped_at is not None

"""Exactly once under concurrency: the unique receipt in the database decides, not Python.

Two phones (two sessions of the same officer, each a test client in its own thread) send the same
item at the same moment, over and over. Run on SQLite by default and on PostgreSQL with
PINGAN_TEST_DB=postgres.
"""
import threading

from sqlalchemy import func, select

from extensions import db
from models import AuditEvent, SyncReceipt
from tests.conftest import AuthActions
from tests.test_sync_api import HEADERS, item, note_kind, notes, upload, jpeg_with_gps, new_id  # noqa: F401

ROUNDS = 12


def _logged_in_clients(app, n: int):
    clients = []
    for _ in range(n):
        client = app.test_client()
        AuthActions(client).login()
        clients.append(client)
    return clients


def _race(app, clients, send):
    """Run send(client) in one thread per client, released together; return the responses."""
    barrier, responses = threading.Barrier(len(clients)), [None] * len(clients)

    def worker(index, client):
        with app.app_context():
            barrier.wait()
            responses[index] = send(client)

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return responses


def test_concurrent_same_item_makes_one_record(app, station, note_kind):  # noqa: F811
    """Each round: two requests with one client_id at once -> one record, created + duplicate, same id.

    A request that lost a lock race three times may answer 503 (nothing saved): its retry is then
    a duplicate. Nothing else is acceptable.
    """
    clients = _logged_in_clients(app, 2)
    for round_no in range(ROUNDS):
        body = {"device_id": "phone", "items": [item(note=f"round {round_no}")]}
        responses = _race(app, clients, lambda c: c.post("/api/sync", json=body, headers=HEADERS))
        results = []
        for client, response in zip(clients, responses):
            if response.status_code == 503:
                response = client.post("/api/sync", json=body, headers=HEADERS)
            assert response.status_code == 200, response.get_data(as_text=True)
            results.append(response.get_json()["results"][0])
        assert sorted(r["status"] for r in results) == ["created", "duplicate"], results
        assert results[0]["id"] == results[1]["id"]
    db.session.rollback()
    assert len(notes()) == ROUNDS
    assert db.session.scalar(select(func.count(SyncReceipt.id))) == ROUNDS


def test_concurrent_batches_overlapping_items(app, station, note_kind):  # noqa: F811
    """Two tabs flush overlapping batches at once: every item exists exactly once."""
    shared = [item(note=f"shared {n}") for n in range(10)]
    clients = _logged_in_clients(app, 3)
    bodies = [{"device_id": f"tab{i}", "items": shared[i:] + shared[:i]} for i in range(3)]
    order = iter(range(3))
    lock = threading.Lock()

    def send(client):
        with lock:
            index = next(order)
        response = client.post("/api/sync", json=bodies[index], headers=HEADERS)
        if response.status_code == 503:
            response = client.post("/api/sync", json=bodies[index], headers=HEADERS)
        return response

    responses = _race(app, clients, send)
    assert all(r.status_code == 200 for r in responses), [r.status_code for r in responses]
    ids = {}
    for response in responses:
        for result in response.get_json()["results"]:
            assert result["status"] in ("created", "duplicate"), result
            ids.setdefault(result["client_id"], set()).add(result["id"])
    assert all(len(v) == 1 for v in ids.values()), "every answer for one client_id names the same record"
    db.session.rollback()
    assert sorted(r.reason for r in notes()) == sorted(i["data"]["note"] for i in shared)
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "test_note")) == 10


def test_concurrent_same_photo_is_stored_once(app, station):
    """The same photo uploaded twice at once: one attachment, both answers name it."""
    from models import Attachment

    clients = _logged_in_clients(app, 2)
    for _ in range(4):
        client_id, photo = new_id(), jpeg_with_gps()
        responses = _race(app, clients, lambda c: upload(c, client_id, photo))
        responses = [upload(c, client_id, photo) if r.status_code == 503 else r for c, r in zip(clients, responses)]
        assert sorted(r.status_code for r in responses) in ([200, 201], [201, 201]), responses
        assert len({r.get_json()["id"] for r in responses}) == 1
    db.session.rollback()
    assert db.session.scalar(select(func.count(Attachment.id))) == 4

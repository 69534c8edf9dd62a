"""The admin Hosts API and page: live state, add, drain, disable, remove — audited and applied at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.admin.conftest import PASSWORD, TOKEN, Admin, csrf_token, log_in
from tests.support.fleet import FakeFleet, FakeHostSpec
from tests.support.gateway import GatewayServer


@pytest.fixture
def two_hosts(fake_fleet: Callable[..., FakeFleet]) -> FakeFleet:
    return fake_fleet(FakeHostSpec(name="a", models=["alpha:latest"], loaded=["alpha:latest"]), FakeHostSpec(name="b"))


@pytest.fixture
def fleet_admin(start_gateway: Callable[..., GatewayServer], two_hosts: FakeFleet) -> Iterator[Admin]:
    server = start_gateway(
        admin_password=PASSWORD, admin_token=TOKEN, ollama_url=two_hosts.url(0), host_probe_seconds=0.2
    )
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert log_in(client, server.url).status_code == 303
        yield Admin(server, client, csrf_token(client.get("/admin/").text))


def test_hosts_are_listed_with_their_state(fleet_admin: Admin, two_hosts: FakeFleet) -> None:
    body = fleet_admin.get("/admin/api/hosts").json()
    [host] = body["hosts"]
    assert host["url"] == two_hosts.url(0) and host["source"] == "settings"
    assert (host["status"], host["breaker"], host["models"], host["loaded"]) == (
        "healthy",
        "closed",
        ["alpha:latest"],
        ["alpha:latest"],
    )
    assert body["queue"] == {"waiting": 0, "oldest_wait_seconds": 0.0}
    page = fleet_admin.get("/admin/hosts")
    assert page.status_code == 200 and two_hosts.url(0) in page.text and "alpha:latest" in page.text


def test_add_drain_disable_and_remove_a_host(fleet_admin: Admin, two_hosts: FakeFleet) -> None:
    added = fleet_admin.send("POST", "/admin/api/hosts", {"url": two_hosts.url(1), "name": "b", "max_concurrent": 2})
    assert added.status_code == 201, added.text
    by_label = {h["label"]: h for h in added.json()["hosts"]}
    assert by_label["b"]["max_concurrent"] == 2 and by_label["b"]["source"] == "database"
    assert fleet_admin.send("POST", "/admin/api/hosts", {"url": two_hosts.url(1)}).status_code == 409
    assert fleet_admin.send("POST", "/admin/api/hosts", {"url": "ftp://nope"}).status_code == 400

    host_b = by_label["b"]["id"]
    drained = fleet_admin.send("PATCH", f"/admin/api/hosts/{host_b}", {"draining": True}).json()
    assert {h["label"]: h["status"] for h in drained["hosts"]}["b"] == "draining"
    # A settings host is stored when it is changed, so it can be drained too.
    settings_host = by_label[two_hosts.url(0)]["id"]
    disabled = fleet_admin.send("PATCH", f"/admin/api/hosts/{settings_host}", {"enabled": False}).json()
    assert {h["url"]: h["status"] for h in disabled["hosts"]}[two_hosts.url(0)] == "disabled"
    assert fleet_admin.send("PATCH", f"/admin/api/hosts/{host_b}", {"weight": "heavy"}).status_code == 400

    removed = fleet_admin.send("DELETE", f"/admin/api/hosts/{host_b}").json()
    assert [h["label"] for h in removed["hosts"]] == [two_hosts.url(0)]
    actions = [e["action"] for e in fleet_admin.get("/admin/api/audit?action=host.").json()["entries"]]
    assert actions == ["host.remove", "host.update", "host.update", "host.add"]


def test_changing_hosts_needs_the_csrf_token(fleet_admin: Admin, two_hosts: FakeFleet) -> None:
    response = fleet_admin.client.post("/admin/api/hosts", json={"url": two_hosts.url(1)})
    assert response.status_code == 403


def test_pull_onto_one_host_names_the_host_in_its_progress(fleet_admin: Admin, two_hosts: FakeFleet) -> None:
    fleet_admin.send("POST", "/admin/api/hosts", {"url": two_hosts.url(1), "name": "b"})
    hosts = {h["label"]: h["id"] for h in fleet_admin.get("/admin/api/hosts").json()["hosts"]}
    response = fleet_admin.client.post(
        "/admin/api/models/pull", json={"model": "tinyllama:latest", "host": hosts["b"]}, headers=fleet_admin.headers()
    )
    assert response.status_code == 200
    lines = [line for line in response.text.splitlines() if line]
    assert lines and all('"host":"b"' in line for line in lines), lines
    assert two_hosts.stats(1)["paths"].get("/api/pull") == 1 and "/api/pull" not in two_hosts.stats(0)["paths"]
    missing = fleet_admin.client.post(
        "/admin/api/models/pull", json={"model": "x", "host": "nope"}, headers=fleet_admin.headers()
    )
    assert missing.status_code == 404


def test_delete_from_one_host_or_everywhere(fleet_admin: Admin, two_hosts: FakeFleet) -> None:
    fleet_admin.send("POST", "/admin/api/hosts", {"url": two_hosts.url(1), "name": "b"})
    hosts = {h["label"]: h for h in fleet_admin.get("/admin/api/hosts").json()["hosts"]}
    assert "llama3.2:latest" in hosts["b"]["models"]  # the fake's default catalog
    page = fleet_admin.get("/admin/models").text
    assert "Delete from b" in page and "Delete everywhere" in page
    assert page.count('id="overrides-document"') == 1 and "<title>Models" in page  # once, not also in <title>
    one = fleet_admin.send("DELETE", f"/admin/api/models/llama3.2:latest?host={hosts['b']['id']}")
    assert one.status_code == 200, one.text
    assert one.json()["hosts"] == {"b": "deleted"}
    assert two_hosts.stats(1)["paths"].get("/api/delete") == 1 and "/api/delete" not in two_hosts.stats(0)["paths"]

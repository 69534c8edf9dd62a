"""docs/metrics.md lists every metric a running gateway exposes; the dashboard uses only metrics that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.gateway import GatewayServer

DOCS = Path(__file__).resolve().parents[2] / "docs"


def exposed(server: GatewayServer) -> set[str]:
    text = httpx.get(server.url + "/metrics").text
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name + ("_total" if family.type == "counter" else ""))
    # An unlabelled histogram's `_created` sample parses as a family of its own; docs list it with the histogram.
    return {n for n in names if n.startswith("gateway_") and not n.endswith("_created")}


def test_every_metric_is_documented(gateway_server: GatewayServer) -> None:
    documented = set(re.findall(r"^\| `(gateway_[a-z_]+)`", (DOCS / "metrics.md").read_text(), flags=re.M))
    names = exposed(gateway_server)
    assert "gateway_task_store_errors_total" in names  # the task store's counter lives in the app's registry
    assert names == documented


def test_dashboard_queries_use_existing_metrics(gateway_server: GatewayServer) -> None:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    used = {
        re.sub(r"_(bucket|sum|count)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"gateway_[a-z_]+", target["expr"])
    }
    assert used and used <= exposed(gateway_server)

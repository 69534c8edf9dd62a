"""Usage drill-down pages, the CSV's key names, and the overview's merged model rows and latency series."""

from __future__ import annotations

import csv
import io

import openai
import pytest

from .conftest import Admin
from .test_api_keys import client_for


def _use(admin: Admin, name: str, model: str = "llama3.2") -> str:
    data = admin.send("POST", "/admin/api/keys", {"name": name}).json()
    client_for(admin, data["secret"]).chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    admin.server.flush_usage()
    return str(data["key"]["id"])


def test_csv_carries_the_key_name(admin: Admin) -> None:
    key_id = _use(admin, "reporting")
    rows = list(csv.DictReader(io.StringIO(admin.get("/admin/api/usage.csv").text)))
    assert [(r["key_id"], r["key_name"]) for r in rows] == [(key_id, "reporting")]


def test_key_drill_down_has_its_own_charts(admin: Admin) -> None:
    key_id = _use(admin, "drill")
    _use(admin, "other")
    page = admin.get(f"/admin/usage/key/{key_id}")
    assert page.status_code == 200
    assert "Key: drill" in page.text
    assert 'data-series="requests" data-total="1"' in page.text  # only this key's request
    for series in ("latency_p95", "ttft_p95"):
        assert f'data-series="{series}"' in page.text
    assert admin.get("/admin/usage/key/key_unknown").status_code == 404


def test_model_drill_down_counts_both_of_its_names(admin: Admin) -> None:
    assert admin.send("PATCH", "/admin/api/models/llama3.2:latest", {"display_name": "house-model"}).status_code == 200
    _use(admin, "by-display", model="house-model")
    _use(admin, "by-ollama-name", model="llama3.2")
    page = admin.get("/admin/usage/model/llama3.2:latest")
    assert page.status_code == 200 and "Model: house-model" in page.text
    assert 'data-series="requests" data-total="2"' in page.text
    overview = admin.get("/admin/").text
    top_models = overview.split("Top models", 1)[1]
    assert top_models.count("/admin/usage/model/") == 1  # one row, not one per name
    assert "house-model" in top_models


def test_overview_has_p95_latency_and_time_to_first_token(admin: Admin) -> None:
    data = admin.send("POST", "/admin/api/keys", {"name": "s"}).json()
    stream = client_for(admin, data["secret"]).chat.completions.create(
        model="llama3.2", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    admin.server.flush_usage()
    api = admin.get("/admin/api/overview").json()
    assert {"latency_p95", "ttft_p95"} <= set(api["series"])
    assert any(v > 0 for _, v in api["series"]["latency_p95"])


def test_unknown_client_errors_stay_out_of_percentiles(admin: Admin) -> None:
    data = admin.send("POST", "/admin/api/keys", {"name": "bad"}).json()
    with pytest.raises(openai.NotFoundError):
        client_for(admin, data["secret"]).chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "hi"}]
        )
    admin.server.flush_usage()
    series = admin.get("/admin/api/overview").json()["series"]
    assert sum(v for _, v in series["errors"]) == 1
    assert all(v == 0 for _, v in series["latency_p95"])

"""Every admin page renders for a logged-in admin and redirects to the login page otherwise."""

from __future__ import annotations

import httpx
import pytest

from .conftest import Admin

PAGES = ["/admin/", "/admin/models", "/admin/keys", "/admin/usage", "/admin/tasks", "/admin/settings", "/admin/account"]


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_with_security_headers(admin: Admin, path: str) -> None:
    response = admin.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "<script>" not in response.text  # no inline scripts anywhere
    assert "http://" not in response.text.split("<main", 1)[0].replace('xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.parametrize("path", PAGES)
def test_page_without_session_redirects_to_login(anon: httpx.Client, path: str) -> None:
    response = anon.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=")


def test_root_redirects_to_admin(anon: httpx.Client) -> None:
    assert anon.get("/").headers["location"] == "/admin/"
    assert anon.get("/admin").headers["location"] == "/admin/"


def test_static_assets_are_served(anon: httpx.Client) -> None:
    for name, kind in (("admin.css", "text/css"), ("admin.js", "javascript"), ("favicon.svg", "image/svg")):
        response = anon.get(f"/admin/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
        assert response.headers["x-content-type-options"] == "nosniff"

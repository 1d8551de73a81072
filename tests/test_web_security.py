"""The local app's guard, against a real server: only the printed address and token
get in, nothing changes without the CSRF token, no inline script runs, and it binds
to loopback unless told otherwise."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from knowflow import Vault
from knowflow.web.security import CSP, csrf_token

from .conftest import EXAMPLES
from .websupport import Served, chromium, serving


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("web") / "vault"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("*.db*"))
    with serving(Vault(root)) as served:
        yield served


@contextmanager
def signed_in(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.base) as client:
        first = client.get(served.entry)
        assert first.status_code == 303 and first.headers["location"] == "/"
        assert "HttpOnly" in first.headers["set-cookie"]
        yield client


def test_without_the_token_nothing_is_served(served: Served) -> None:
    for path in ("/", "/search", "/static/app.css", "/note/Welcome.md"):
        response = httpx.get(served.base.rstrip("/") + path)
        assert response.status_code == 401, path
        assert "knowflow serve" in response.text
    wrong = httpx.get(f"{served.base}?token=not-{served.token}")
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers


def test_the_token_in_the_first_address_becomes_a_cookie(served: Served) -> None:
    with signed_in(served) as client:
        assert client.get("/static/app.css").status_code == 200
        # The token leaves the address bar at once: it is not in the page's address.
        redirect = client.get(f"/search?q=x&token={served.token}")
        assert redirect.status_code == 303 and redirect.headers["location"] == "/search?q=x"


def test_a_host_other_than_the_bound_address_is_refused(served: Served) -> None:
    # A page on evil.example rebinding its name to 127.0.0.1 sends Host: evil.example.
    with signed_in(served) as client:
        port = httpx.URL(served.base).port
        for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}"):
            response = client.get("/static/app.css", headers={"Host": host})
            assert response.status_code == 421, host
        assert client.get("/static/app.css", headers={"Host": f"localhost:{port}"}).is_success


def test_changes_need_the_csrf_token(served: Served) -> None:
    with signed_in(served) as client:
        for body in ({}, {"csrf": "forged"}):
            refused = client.post("/sources", data=body)
            assert refused.status_code == 403, body
            assert "CSRF" in refused.text
        json_without = client.post("/sources", json={"x": 1})
        assert json_without.status_code == 403
        # With it, the request reaches the app (whatever the page then says).
        token = csrf_token(served.token)
        allowed = client.post("/nowhere", headers={"X-CSRF-Token": token})
        assert allowed.status_code == 404


def test_every_response_carries_the_security_headers(served: Served) -> None:
    with signed_in(served) as client:
        for response in (client.get("/static/app.css"), client.get("/no-such-page")):
            assert response.headers["content-security-policy"] == CSP
            assert response.headers["x-content-type-options"] == "nosniff"
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert re.search(r"script-src 'self'(;|$)", CSP)


def test_the_browser_runs_no_inline_script(served: Served) -> None:
    # The 404 page shows the path it was asked for: a script in it must be text, and
    # even an injected inline script would not run under the policy.
    with chromium() as browser:
        context = served.signed_in(browser)
        page = context.new_page()
        page.goto(served.base + "<script>window.pwned=1</script>")
        assert page.evaluate("window.pwned") is None
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text))
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.pwned = 2'; document.body.append(s); }"
        )
        assert page.evaluate("window.pwned") is None
        assert any("Content Security Policy" in v for v in violations), violations
        context.close()


def _serve(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "knowflow", "serve", str(root), "--port", "0", "--no-fetch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_serve_prints_its_address_binds_loopback_and_stops_on_a_signal(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("*.db*"))
    process = _serve(root)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{40,}", line), line
        with httpx.Client() as client:
            assert client.get(line).status_code == 303
            assert client.get(line.split("?")[0] + "static/app.css").status_code == 200
        port = httpx.URL(line).port
        out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True)
        if out.returncode == 0:
            local = {line.split()[3] for line in out.stdout.splitlines()}
            assert local == {f"127.0.0.1:{port}"}, out.stdout
    finally:
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        process.wait(timeout=15)
    assert time.monotonic() - started < 10
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")


def test_another_address_needs_an_explicit_flag(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("*.db*"))
    process = _serve(root, "--host", "0.0.0.0")
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "--allow-remote" in err and "Traceback" not in err


def test_the_listening_socket_is_named_tcp() -> None:
    # asyncio turns Nagle's algorithm off only on a socket whose protocol says TCP;
    # with it left 0, every kept-alive response waited 40 ms for a delayed ACK.
    import socket

    from knowflow.web.server import bind

    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()

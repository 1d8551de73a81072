"""``knowflow push`` on the member's machine: the vault's bundle for each audience
linked to the hub, sent whole only where it changed.

config.toml::

    [hub]
    url = "https://hub.example.org"
    member = "alice"          # your name on the hub; default: [share] author
    token_file = "~/.config/knowflow/hub-token"   # default: .knowflow/hub-token

    [hub.audiences]           # personal audience = hub audience
    "team/platform" = "platform"
    public = "everyone"

The token comes from ``$KNOWFLOW_HUB_TOKEN``, else the token file, which must be
readable by its owner only. Before the first push to a hub audience, the person
is shown who is in it; which audiences they confirmed is kept in
``.knowflow/hub-pushed.json``.

Requests go through httpx over ``knowflow.seek.guard``'s transport, as every
request of knowflow's one HTTP client does; the hub's own host is the one the
person named, so it may be on loopback or the intranet.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import certifi
import httpx

from knowflow.errors import ConfigError, KnowflowError
from knowflow.hub.bundle import fingerprint
from knowflow.index.index import Index
from knowflow.seek.guard import Guard, guarded_transport, origins
from knowflow.seek.http import USER_AGENT
from knowflow.share.bundle import bundle
from knowflow.vault.files import FileStamp, atomic_write
from knowflow.vault.vault import Vault

TOKEN_ENV = "KNOWFLOW_HUB_TOKEN"
PUSHED_FILE = "hub-pushed.json"


class PushError(KnowflowError):
    """A push the hub refused or could not receive; the message says why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class HubSettings:
    url: str
    member: str
    links: dict[str, str]  # personal audience -> hub audience
    token_file: Path


def settings(vault: Vault) -> HubSettings:
    """The vault's [hub] settings; ConfigError says what is missing or wrong."""
    config = vault.config()
    hub = config.get("hub")
    if not isinstance(hub, dict) or not isinstance(hub.get("url"), str):
        raise ConfigError(f"{vault.config_path}: set [hub] url to push to a hub")
    links = hub.get("audiences", {})
    if not isinstance(links, dict) or not all(isinstance(v, str) for v in links.values()):
        raise ConfigError(
            f"{vault.config_path}: [hub.audiences] maps each personal audience to a hub"
            ' audience name ("team/platform" = "platform")'
        )
    member = hub.get("member") or config.get("share", {}).get("author")
    if not isinstance(member, str) or not member:
        raise ConfigError(f"{vault.config_path}: set [hub] member (your name on the hub)")
    token_file = hub.get("token_file")
    path = Path(token_file).expanduser() if isinstance(token_file, str) else None
    return HubSettings(
        url=hub["url"].rstrip("/"),
        member=member,
        links=dict(links),
        token_file=path or vault.state_dir / "hub-token",
    )


def read_token(path: Path) -> str:
    """$KNOWFLOW_HUB_TOKEN, else the token file, refused if others may read it."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return token
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"no hub token: set ${TOKEN_ENV} or write it to {path}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} may be read by others (mode {stat.S_IMODE(mode):o}): a token file"
            f" must be its owner's alone (chmod 600 {path})"
        )
    return path.read_text(encoding="utf-8").strip()


@dataclass
class HubClient:
    """Requests to one hub with one member's token."""

    url: str
    token: str
    transport: httpx.AsyncBaseTransport | None = None
    timeout: float = 60.0
    _client: httpx.AsyncClient | None = field(default=None, init=False)

    async def __aenter__(self) -> HubClient:
        if self.transport is None:
            tls = ssl.create_default_context(cafile=certifi.where())
            # The person named the hub's address: its host may be a private one.
            guard = Guard(origins([self.url]))
            self.transport = guarded_transport(tls, httpx.Limits(max_connections=4), guard)
        self._client = httpx.AsyncClient(
            transport=self.transport,
            timeout=httpx.Timeout(self.timeout),
            headers={"User-Agent": USER_AGENT, "Authorization": f"Bearer {self.token}"},
            follow_redirects=False,  # a token is never carried to another address
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer; PushError with the hub's own words when it refuses."""
        assert self._client is not None, "use the client inside 'async with'"
        try:
            reply = await self._client.request(method, self.url + path, **kwargs)
        except httpx.HTTPError as exc:
            raise PushError(f"could not reach the hub at {self.url}: {exc}") from None
        try:
            data = reply.json()
        except ValueError:
            data = None
        if reply.status_code >= 400:
            said = data.get("error") if isinstance(data, dict) else None
            raise PushError(f"the hub said ({reply.status_code}): {said or reply.reason_phrase}",
                            reply.status_code)  # fmt: skip
        return data


@dataclass
class Outcome:
    """One audience's push: what was sent and what the hub did (None on a dry run or
    a failure; ``error`` then says why)."""

    personal: str
    audience: str
    sent_whole: int
    sent_as_hash: int
    to_remove: int
    result: dict[str, Any] | None = None
    declined: bool = False  # the person chose not to share with this audience
    error: str | None = None

    @property
    def status(self) -> str:
        """pushed, unchanged, withdrawn, failed, declined or dry run."""
        if self.error is not None:
            return "failed"
        if self.declined:
            return "declined"
        if self.result is None:
            return "dry run"
        if self.result.get("withdrawn"):
            return "withdrawn"
        changed = ("added", "updated", "removed")
        return "pushed" if any(self.result.get(k) for k in changed) else "unchanged"

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "status": self.status}


Confirm = Callable[[str, dict[str, Any]], bool]


def push(
    index: Index,
    *,
    audience: str | None = None,
    dry_run: bool = False,
    confirm: Confirm | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Outcome]:
    """Push each linked audience (or the one named, personal or hub name). ``confirm``
    is asked before the first push to a hub audience, with who is in it; a False
    answer skips that audience."""
    hub = settings(index.vault)
    links = _chosen_links(hub, audience)
    token = read_token(hub.token_file)
    outcomes = asyncio.run(
        _push_all(index, hub, links, token, dry_run=dry_run, confirm=confirm, transport=transport)
    )
    if not dry_run:
        _log_pushes(index.vault, [o for o in outcomes if o.result is not None])
    return outcomes


def _log_pushes(vault: Vault, outcomes: list[Outcome]) -> None:
    """Each push in the vault's activity log (what ``knowflow practice`` counts)."""
    from knowflow.seek.state import open_state, record

    if not outcomes:
        return
    conn = open_state(vault)
    try:
        for o in outcomes:
            record(conn, "pushed", o.personal, hub_audience=o.audience, sent=o.sent_whole)
    finally:
        conn.close()


def _chosen_links(hub: HubSettings, audience: str | None) -> dict[str, str]:
    if not hub.links:
        raise ConfigError("no audience is linked to the hub: add them under [hub.audiences]")
    if audience is None:
        return hub.links
    chosen = {p: h for p, h in hub.links.items() if audience in (p, h)}
    if not chosen:
        raise ConfigError(f"{audience!r} is not linked to the hub in [hub.audiences]")
    return chosen


async def _push_all(
    index: Index, hub: HubSettings, links: dict[str, str], token: str, *, dry_run: bool,
    confirm: Confirm | None, transport: httpx.AsyncBaseTransport | None,
) -> list[Outcome]:  # fmt: skip
    outcomes = []
    async with HubClient(hub.url, token, transport) as client:
        # Each audience in turn, whatever became of the one before: a refusal for one
        # must not hide, or stop, the others.
        # A hub that cannot be reached fails every audience alike: say it once, as an
        # error, unless something went through before it (then each is reported).
        pending = list(links.items())
        for at, (personal, name) in enumerate(pending):
            try:
                if not dry_run and not await _confirmed(index.vault, hub, client, name, confirm):
                    outcomes.append(Outcome(personal, name, 0, 0, 0, declined=True))
                    continue
                outcomes.append(await _push_one(index, hub, client, personal, name, dry_run))
            except PushError as exc:
                if exc.status is None and not any(o.result for o in outcomes):
                    raise
                rest = pending[at:] if exc.status is None else [(personal, name)]
                outcomes += [Outcome(p, n, 0, 0, 0, error=str(exc)) for p, n in rest]
                if exc.status is None:
                    break
    return outcomes


async def _confirmed(
    vault: Vault, hub: HubSettings, client: HubClient, name: str, confirm: Confirm | None
) -> bool:
    """Whether the person agreed (now or at an earlier push) to share with name."""
    pushed = _pushed(vault)
    if name in pushed.get(hub.url, []):
        return True
    try:
        members = await client.call("GET", f"/api/audiences/{name}/members")
    except PushError as exc:
        if exc.status != 403:
            raise
        # Not (or no longer) in it: the hub takes only a withdrawal from us there,
        # which shares nothing with anyone, so there is nothing to confirm.
        return True
    if confirm is not None and not confirm(name, members):
        return False
    pushed.setdefault(hub.url, []).append(name)
    path = vault.state_dir / PUSHED_FILE
    text = json.dumps(pushed, ensure_ascii=False, indent=1) + "\n"
    atomic_write(path, text, FileStamp.of(path) if path.exists() else None)
    return True


def _pushed(vault: Vault) -> dict[str, list[str]]:
    try:
        data = json.loads((vault.state_dir / PUSHED_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError:
        return {}  # unreadable: ask again rather than assume consent
    return data if isinstance(data, dict) else {}


async def _push_one(
    index: Index, hub: HubSettings, client: HubClient, personal: str, name: str, dry_run: bool
) -> Outcome:
    doc = bundle(index, personal)
    doc["audience"] = {**doc["audience"], "name": name}  # type: ignore[dict-item]
    doc["author"] = {"name": hub.member}
    notes: list[dict[str, Any]] = doc["notes"]  # type: ignore[assignment]
    held = (await client.call("GET", "/api/hashes", params={"audience": name}))["hashes"]
    slim = [_slim(note, held.get(note["id"])) for note in notes]
    hashed = sum(1 for note in slim if len(note) == 2)
    outcome = Outcome(personal, name, len(slim) - hashed, hashed,
                      len(set(held) - {note["id"] for note in notes}))  # fmt: skip
    if dry_run:
        return outcome
    try:
        outcome.result = await client.call("POST", "/api/push", json={**doc, "notes": slim})
    except PushError as exc:
        if exc.status != 409 or "stale bundle" in str(exc):
            raise
        # What the hub held changed since we asked (another push): send everything.
        outcome.result = await client.call("POST", "/api/push", json=doc)
    return outcome


def _slim(note: dict[str, Any], held: dict[str, str] | None) -> dict[str, Any]:
    """The note whole, or its hash alone when the hub holds exactly this version."""
    if held is not None and held.get("fingerprint") == fingerprint(note):
        return {"id": note["id"], "content_hash": note["content_hash"]}
    return note


def export(vault: Vault, *, transport: httpx.AsyncBaseTransport | None = None) -> Any:
    """Everything the hub holds of this vault's member."""
    return _call(vault, "GET", "/api/export", transport)


def delete_mine(vault: Vault, *, transport: httpx.AsyncBaseTransport | None = None) -> int:
    """Delete everything this vault's member pushed to the hub; returns how many. The
    audiences confirmed for this hub are forgotten too: sharing again after taking
    everything back is a new decision, so the next push asks again."""
    deleted = int(_call(vault, "DELETE", "/api/mine", transport)["deleted"])
    forget_confirmations(vault)
    return deleted


def forget_confirmations(vault: Vault) -> list[str]:
    """Forget which audiences of the vault's hub the person confirmed; returns them."""
    url = settings(vault).url
    pushed = _pushed(vault)
    forgotten = pushed.pop(url, [])
    path = vault.state_dir / PUSHED_FILE
    if path.exists():
        text = json.dumps(pushed, ensure_ascii=False, indent=1) + "\n"
        atomic_write(path, text, FileStamp.of(path))
    return list(forgotten)


def _call(vault: Vault, method: str, path: str, transport: httpx.AsyncBaseTransport | None) -> Any:
    hub = settings(vault)
    token = read_token(hub.token_file)

    async def run() -> Any:
        async with HubClient(hub.url, token, transport) as client:
            return await client.call(method, path)

    return asyncio.run(run())

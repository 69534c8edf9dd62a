"""The fleet's host list: the settings' hosts joined with the ones stored in the database, kept in sync."""

from __future__ import annotations

from ollama_gateway.settings import Settings
from ollama_gateway.storage import Storage
from ollama_gateway.storage.hosts import HostRecord
from ollama_gateway.upstream.fleet import Fleet
from ollama_gateway.upstream.hosts import HostConfig, merge_hosts, settings_hosts


def to_config(record: HostRecord, settings: Settings) -> HostConfig:
    """A stored host as the fleet sees it."""
    return HostConfig(
        id=record.id,
        url=record.url,
        name=record.name,
        weight=record.weight,
        priority=record.priority,
        max_concurrent=record.max_concurrent or settings.ollama_max_concurrent,
        auth_header=record.auth_header,
        enabled=record.enabled,
        draining=record.draining,
        source="database",
    )


async def wanted_hosts(settings: Settings, storage: Storage) -> list[HostConfig]:
    """Every host the gateway should serve now."""
    stored = [to_config(r, settings) for r in await storage.hosts.list()]
    return merge_hosts(settings_hosts(settings), stored)


async def sync_hosts(fleet: Fleet, settings: Settings, storage: Storage) -> None:
    """Apply the stored host list to the running fleet (after a change here or on another replica)."""
    wanted = await wanted_hosts(settings, storage)
    if wanted != fleet.configs:
        await fleet.set_hosts(wanted)


async def stored_host_ref(storage: Storage, settings: Settings, ref: str) -> str:
    """The stored host `ref` names; a host known only from the settings is stored first (same URL), so it can be
    drained, disabled or tuned like any other."""
    for config in settings_hosts(settings):
        if ref in (config.id, config.url, config.url + "/"):
            for record in await storage.hosts.list():
                if record.url == config.url:
                    return record.id
            return (await storage.hosts.add(config.url, max_concurrent=config.max_concurrent)).id
    return ref

"""Per-model settings: what Ollama reports (synced) and what the operator chose (never overwritten)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ollama_gateway.errors import ConflictError, InvalidRequestError
from ollama_gateway.storage.changes import note_change
from ollama_gateway.storage.sql import UNSET, Unset, require_aware, upsert, utc_now
from ollama_gateway.storage.tables import model_settings

LATEST = ":latest"


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogEntry:
    """One model as Ollama's /api/tags (and /api/show) reports it."""

    name: str
    size: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    capabilities: tuple[str, ...] = ()
    modified_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelRecord:
    """A model's stored settings and last known catalog facts."""

    name: str
    display_name: str | None
    enabled: bool
    hidden: bool
    overrides: Mapping[str, Any]
    capabilities: tuple[str, ...]
    size: int | None
    details: Mapping[str, Any]
    modified_at: datetime | None
    last_seen_at: datetime | None
    present: bool

    @property
    def public_name(self) -> str:
        """The name clients see: the display name when one is set, else the Ollama name."""
        return self.display_name or self.name

    @property
    def ollama_name_visible(self) -> bool:
        """False when the operator hid the Ollama name behind a display name."""
        return not (self.hidden and self.display_name)


def name_variants(name: str) -> tuple[str, ...]:
    """`x` and `x:latest` name the same model: both spellings, the given one first."""
    if name.endswith(LATEST):
        return (name, name.removesuffix(LATEST))
    if ":" not in name:
        return (name, name + LATEST)
    return (name,)


def _record(row: RowMapping) -> ModelRecord:
    return ModelRecord(
        name=row["name"],
        display_name=row["display_name"],
        enabled=row["enabled"],
        hidden=row["hidden"],
        overrides=dict(row["overrides"] or {}),
        capabilities=tuple(row["capabilities"] or ()),
        size=row["size"],
        details=dict(row["details"] or {}),
        modified_at=row["modified_at"],
        last_seen_at=row["last_seen_at"],
        present=row["present"],
    )


def _check_display_name(display_name: str | None) -> str | None:
    if display_name is None:
        return None
    display_name = display_name.strip()
    if not display_name:
        raise InvalidRequestError("a display name cannot be empty; use None to clear it", param="display_name")
    return display_name


class ModelStore:
    """The model catalog with the operator's settings for each model."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def sync_catalog(self, entries: Iterable[CatalogEntry]) -> list[ModelRecord]:
        """Record what Ollama has now; models it no longer lists stay, marked not present."""
        now = utc_now()
        by_name = {entry.name: entry for entry in entries}  # one row per name: ON CONFLICT may touch a row once
        rows = [
            {
                "name": entry.name,
                "size": entry.size,
                "details": dict(entry.details),
                "capabilities": list(entry.capabilities),
                "modified_at": require_aware(entry.modified_at, "modified_at"),
                "last_seen_at": now,
                "present": True,
                "overrides": {},
            }
            for entry in by_name.values()
        ]
        async with self._engine.begin() as connection:
            if rows:
                insert = upsert(connection.dialect.name, model_settings)
                catalog_columns = ("size", "details", "capabilities", "modified_at", "last_seen_at", "present")
                statement = insert.on_conflict_do_update(
                    index_elements=[model_settings.c.name],
                    set_={name: insert.excluded[name] for name in catalog_columns},
                )
                await connection.execute(statement, rows)
            gone = sa.update(model_settings).where(model_settings.c.present.is_(True))
            if by_name:
                gone = gone.where(model_settings.c.name.not_in(list(by_name)))
            await connection.execute(gone.values(present=False))
            await note_change(connection, "models")
        return await self.list()

    async def list(self) -> list[ModelRecord]:
        """Every known model, by Ollama name."""
        async with self._engine.connect() as connection:
            rows = (await connection.execute(sa.select(model_settings).order_by(model_settings.c.name))).mappings()
            return [_record(row) for row in rows]

    async def get(self, name: str) -> ModelRecord | None:
        """The model stored under exactly this Ollama name, or None."""
        query = sa.select(model_settings).where(model_settings.c.name == name)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).mappings().one_or_none()
        return None if row is None else _record(row)

    async def set(
        self,
        name: str,
        *,
        display_name: str | Unset | None = UNSET,
        enabled: bool | Unset = UNSET,
        hidden: bool | Unset = UNSET,
        overrides: Mapping[str, Any] | Unset = UNSET,
    ) -> ModelRecord:
        """Change the operator's settings for a model, creating its row (not present) if Ollama never listed it."""
        values: dict[str, Any] = {}
        if not isinstance(display_name, Unset):
            values["display_name"] = _check_display_name(display_name)
        if not isinstance(enabled, Unset):
            values["enabled"] = enabled
        if not isinstance(hidden, Unset):
            values["hidden"] = hidden
        if not isinstance(overrides, Unset):
            values["overrides"] = dict(overrides)
        new_row = {"name": name, "overrides": {}, "capabilities": [], "details": {}, "present": False} | values
        try:
            async with self._engine.begin() as connection:
                insert = upsert(connection.dialect.name, model_settings).values(new_row)
                # With nothing to change, re-set the key so RETURNING still yields the row.
                changes = {key: insert.excluded[key] for key in values} or {"name": insert.excluded.name}
                statement = insert.on_conflict_do_update(index_elements=[model_settings.c.name], set_=changes)
                row = (await connection.execute(statement.returning(*model_settings.c))).mappings().one()
                await note_change(connection, "models")
        except IntegrityError as exc:
            raise ConflictError(
                f"display name {values.get('display_name')!r} is already used by another model", param="display_name"
            ) from exc
        return _record(row)

    async def replace_overrides(self, overrides: Mapping[str, Mapping[str, Any]], *, clear_others: bool) -> int:
        """Set many models' overrides in one transaction (all or nothing); with `clear_others`, every model not
        named gets empty overrides. Names are Ollama names; unknown ones get a row (not present). Returns how many
        rows changed."""
        changed = 0
        async with self._engine.begin() as connection:
            if clear_others:
                statement = sa.update(model_settings).values(overrides={})
                if overrides:
                    statement = statement.where(model_settings.c.name.not_in(list(overrides)))
                changed += int((await connection.execute(statement)).rowcount)
            for name, values in overrides.items():
                row = {"name": name, "overrides": dict(values), "capabilities": [], "details": {}, "present": False}
                insert = upsert(connection.dialect.name, model_settings).values(row)
                statement = insert.on_conflict_do_update(
                    index_elements=[model_settings.c.name], set_={"overrides": insert.excluded.overrides}
                )
                await connection.execute(statement)
                changed += 1
        return changed

    async def resolve(self, client_name: str) -> ModelRecord | None:
        """The model a client means by `client_name`, by display name or visible Ollama name.

        `x` and `x:latest` are the same name, though the exact spelling wins; for one spelling a display name
        wins over an Ollama name. Enabled and present are not checked here: the caller decides.
        """
        variants = name_variants(client_name)
        query = sa.select(model_settings).where(
            sa.or_(model_settings.c.display_name.in_(variants), model_settings.c.name.in_(variants))
        )
        async with self._engine.connect() as connection:
            records = [_record(row) for row in (await connection.execute(query)).mappings()]
        return _best_match(records, variants)


def _best_match(records: Sequence[ModelRecord], variants: tuple[str, ...]) -> ModelRecord | None:
    # The exact spelling beats its `:latest` twin; for the same spelling a display name beats an Ollama name.
    for variant in variants:
        for record in records:
            if record.display_name == variant:
                return record
        for record in records:
            if record.name == variant and record.ollama_name_visible:
                return record
    return None

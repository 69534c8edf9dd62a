"""Many rows into one table at the driver's speed: for the batches the gateway writes off the request path.

SQLAlchemy's executemany builds a parameter dictionary per row and runs every value through the type
machinery one bind at a time (~15 µs a row for the usage table). A `BulkInsert` compiles its INSERT once for
the engine's dialect, converts each value with its column's own bind processor (so what is stored is exactly
what SQLAlchemy would store: the same timestamp text on SQLite, the same types on PostgreSQL) and hands plain
tuples to the driver's executemany.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection


class BulkInsert:
    """`INSERT INTO table (columns...)` for one dialect, fed rows of values in `columns` order."""

    def __init__(self, table: sa.Table, columns: Sequence[str], dialect: Dialect) -> None:
        compiled = table.insert().compile(dialect=dialect, column_keys=list(columns))
        if not compiled.positional:
            raise ValueError(f"BulkInsert needs a positional paramstyle, not {dialect.paramstyle}")
        order = list(compiled.positiontup or ())
        if order != list(columns):
            raise ValueError(f"the INSERT binds {order}: give the columns in that order, not {list(columns)}")
        self.sql = str(compiled)
        # The columns whose type converts a value on its way to the driver (timestamps, booleans, ...).
        self._convert: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (i, convert)
            for i, name in enumerate(order)
            if (convert := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
        )

    def bound(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """One row of values (in `columns` order) as the driver takes it."""
        values = list(row)
        for i, convert in self._convert:
            if values[i] is not None:
                values[i] = convert(values[i])
        return tuple(values)

    async def run(self, connection: AsyncConnection, rows: Sequence[Sequence[Any]]) -> None:
        """Insert every row in one executemany."""
        await connection.exec_driver_sql(self.sql, [self.bound(row) for row in rows])

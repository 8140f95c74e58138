"""Parquet through pyarrow: one schema from ``columns``, written by row groups."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from spasmwatch.export.columns import COLUMNS, TIMESTAMP_OF, TIMESTAMPS, Column
from spasmwatch.export.timeline import Row

# iso()'s strings have milliseconds: a finer unit would claim a precision they do not have.
_TYPES = {"str": pa.string(), "float": pa.float64(), "int": pa.int64(), "timestamp": pa.timestamp("ms", tz="UTC")}
_NOT_NULL = ("onset_utc", "onset_s", "kind", "onset_time")


def _field(c: Column) -> Any:
    meta = {"description": c.description} | ({"units": c.units} if c.units else {})
    return pa.field(c.name, _TYPES[c.type], nullable=c.name not in _NOT_NULL, metadata=meta)


def schema(doc: dict[str, Any]) -> Any:
    """The export schema, the typed times after the rest; each field's metadata holds its
    description and units, the schema's metadata the whole sidecar (key ``spasmwatch``)."""
    return pa.schema([_field(c) for c in COLUMNS + TIMESTAMPS], metadata={"spasmwatch": json.dumps(doc)})


def _table(batch: list[Row], sch: Any) -> Any:
    """The rows with each typed time parsed from its string: the same instant by construction."""
    table = pa.Table.from_pylist(batch, schema=pa.schema(list(sch)[: len(COLUMNS)]))
    for c in TIMESTAMPS:
        table = table.append_column(sch.field(c.name), pc.cast(table.column(TIMESTAMP_OF[c.name]), _TYPES[c.type]))
    return table.replace_schema_metadata(sch.metadata)


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def write_parquet(out: Path, rows: Iterable[Row], doc: dict[str, Any], batch_rows: int) -> int:
    sch = schema(doc)
    n = 0
    with pq.ParquetWriter(str(out), sch, compression="zstd") as w:
        for batch in _batches(rows, batch_rows):
            w.write_table(_table(batch, sch), row_group_size=batch_rows)
            n += len(batch)
    return n


def is_export(path: Path) -> bool:
    """Whether ``path`` is a Parquet file an export wrote (its schema carries the sidecar)."""
    try:
        meta = pq.read_schema(path).metadata
    except (pa.ArrowException, OSError):  # not Parquet at all
        return False
    return bool(meta) and b"spasmwatch" in meta

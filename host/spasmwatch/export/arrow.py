"""Parquet through pyarrow: one schema from ``columns``, written by row groups."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from spasmwatch.export.columns import COLUMNS
from spasmwatch.export.timeline import Row

_TYPES = {"str": pa.string(), "float": pa.float64(), "int": pa.int64()}


def schema(doc: dict[str, Any]) -> Any:
    """The export schema; each field's metadata holds its description and units, the
    schema's metadata the whole sidecar (key ``spasmwatch``)."""
    fields = []
    for c in COLUMNS:
        meta = {"description": c.description} | ({"units": c.units} if c.units else {})
        fields.append(pa.field(c.name, _TYPES[c.type], nullable=c.name not in ("onset_utc", "onset_s", "kind"), metadata=meta))
    return pa.schema(fields, metadata={"spasmwatch": json.dumps(doc)})


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def write_parquet(out: Path, rows: Iterable[Row], doc: dict[str, Any], batch_rows: int) -> int:
    sch = schema(doc)
    n = 0
    with pq.ParquetWriter(str(out), sch, compression="zstd") as w:
        for batch in _batches(rows, batch_rows):
            w.write_table(pa.Table.from_pylist(batch, schema=sch), row_group_size=batch_rows)
            n += len(batch)
    return n


def is_export(path: Path) -> bool:
    """Whether ``path`` is a Parquet file an export wrote (its schema carries the sidecar)."""
    try:
        meta = pq.read_schema(path).metadata
    except (pa.ArrowException, OSError):  # not Parquet at all
        return False
    return bool(meta) and b"spasmwatch" in meta

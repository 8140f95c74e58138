"""The daemon's SQLite store (WAL, versioned schema): see docs/store.md."""

from spasmwatch.store._db import StoreError, make_folder
from spasmwatch.store.known import DifferentStore, KnownStores, StoreMissing
from spasmwatch.store.rows import (
    ActivityRow,
    AlertRow,
    BootLinkRow,
    BootMarks,
    ClusterRow,
    DeviceRow,
    EventRow,
    LabelRow,
    Linked,
    LogLife,
    LostRange,
    NoteRow,
    FailingRow,
    OutgoingRow,
    Replaced,
    RetainedRow,
    StatusRow,
    SyncRow,
    TreatmentRow,
    normalise_drug,
)
from spasmwatch.store.schema import SCHEMA_VERSION
from spasmwatch.store.store import Store

__all__ = [
    "make_folder",
    "DifferentStore",
    "KnownStores",
    "StoreMissing",
    "SCHEMA_VERSION",
    "ActivityRow",
    "AlertRow",
    "BootLinkRow",
    "BootMarks",
    "ClusterRow",
    "DeviceRow",
    "EventRow",
    "LabelRow",
    "Linked",
    "LogLife",
    "LostRange",
    "NoteRow",
    "FailingRow",
    "OutgoingRow",
    "Replaced",
    "RetainedRow",
    "StatusRow",
    "Store",
    "StoreError",
    "SyncRow",
    "TreatmentRow",
    "normalise_drug",
]

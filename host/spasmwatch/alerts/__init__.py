"""Alerts: the engine (states, transitions, injected clock), the words, and the channels.

The daemon builds ``AlertEngine(clock, dispatcher.submit, AlertSettings(...))``
and a ``Dispatcher`` over the channels in ``spasmwatch.alerts.channels``.
See docs/alerts.md.
"""

from spasmwatch.alerts.engine import LABELS, AlertEnded, AlertEngine
from spasmwatch.alerts.model import (
    AlertSettings,
    Audience,
    BandFault,
    BandState,
    ClusterKey,
    ClusterState,
    Notification,
    NoticeKind,
    QuietHours,
    Transition,
    Urgency,
)

__all__ = [
    "LABELS",
    "AlertEnded",
    "AlertEngine",
    "AlertSettings",
    "Audience",
    "BandFault",
    "BandState",
    "ClusterKey",
    "ClusterState",
    "Notification",
    "NoticeKind",
    "QuietHours",
    "Transition",
    "Urgency",
]

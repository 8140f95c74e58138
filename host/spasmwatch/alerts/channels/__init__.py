"""Notification channels behind one interface (base.Channel), and the Dispatcher.

sound (local alarm, no internet), desktop (notify-send / osascript),
webhook (JSON POST), ntfy (push), mqtt (state + Home Assistant discovery).
"""

from spasmwatch.alerts.channels.base import Channel, ChannelError
from spasmwatch.alerts.channels.desktop import DesktopChannel, DesktopSettings
from spasmwatch.alerts.channels.dispatch import Caregiver, Delivery, Dispatcher, RetrySettings
from spasmwatch.alerts.channels.mqtt import BandStatus, FailingChannel, MqttChannel, MqttSettings
from spasmwatch.alerts.channels.ntfy import NtfyChannel, NtfySettings
from spasmwatch.alerts.channels.sound import SoundChannel, SoundSettings, write_alarm_wav
from spasmwatch.alerts.channels.webhook import WebhookChannel, WebhookSettings

__all__ = [
    "BandStatus",
    "Caregiver",
    "Channel",
    "ChannelError",
    "Delivery",
    "DesktopChannel",
    "DesktopSettings",
    "Dispatcher",
    "FailingChannel",
    "MqttChannel",
    "MqttSettings",
    "NtfyChannel",
    "NtfySettings",
    "RetrySettings",
    "SoundChannel",
    "SoundSettings",
    "WebhookChannel",
    "WebhookSettings",
    "write_alarm_wav",
]

"""Desktop notifications through the OS's own tool: notify-send (Linux) or osascript (macOS)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from spasmwatch.alerts.channels._proc import run
from spasmwatch.alerts.channels.base import ChannelError, SettingsChannel
from spasmwatch.alerts.desktop_tool import tool
from spasmwatch.alerts.model import Notification, Urgency


# What to do, not only what is missing: on a Raspberry Pi without a screen the channel (on by default)
# fails every test alarm and stays NOT DELIVERED in 'status' until it is switched off.
NO_DESKTOP = ("desktop notifications not available: neither notify-send nor osascript found (on a computer "
              "without a screen: 'spasmwatch config set channels.desktop.enabled false' switches this channel off; "
              "on a desktop: 'sudo apt install libnotify-bin' gives notify-send)")  # fmt: skip


@dataclass(frozen=True)
class DesktopSettings:
    name: str = "desktop"
    app_name: str = "spasmwatch"
    timeout_s: float = 10.0
    min_urgency: Urgency = Urgency.LOW


def _notify_send_urgency(u: Urgency) -> str:
    # critical notifications stay on screen until dismissed (freedesktop spec).
    return "critical" if u >= Urgency.URGENT else "normal" if u >= Urgency.NORMAL else "low"


def _body_markup(text: str) -> str:
    """The body as the Desktop Notifications spec's markup takes it: many servers (KDE, dunst) read
    it as markup, where a name's ``&`` or ``<`` is a broken entity or tag that drops or cuts the body.
    The summary is plain text in the spec, and not escaped (it would show ``&amp;``)."""
    return html.escape(text, quote=False)  # &amp; &lt; &gt;: the entities the spec lists


def _applescript_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DesktopChannel(SettingsChannel[DesktopSettings]):
    def __init__(self, settings: DesktopSettings | None = None) -> None:
        super().__init__(settings or DesktopSettings())

    def command(self, n: Notification) -> list[str] | None:
        """The command line for this host, or None when neither tool is installed."""
        found = tool()
        if found is None:
            return None
        name, exe = found
        if name == "notify-send":
            return [exe, "--app-name", self.settings.app_name, "--urgency", _notify_send_urgency(n.urgency),
                    "--", n.title, _body_markup(n.text)]  # fmt: skip
        script = f"display notification {_applescript_string(n.text)} with title {_applescript_string(n.title)}"
        return [exe, "-e", script]

    async def send(self, n: Notification) -> None:
        argv = self.command(n)
        if argv is None:
            raise ChannelError(self.name, NO_DESKTOP, retryable=False)
        code, out = await run(argv, self.settings.timeout_s)
        if code != 0:
            raise ChannelError(self.name, f"{argv[0]} exit {code}: {out}", retryable=False)

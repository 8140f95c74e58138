"""Text a person, the web page or an MQTT client gave, listed on a terminal: its control characters
are shown ('\\x1b'), never sent to the terminal as they are (a real store, the real entry point)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from spasmwatch.store import Store

ESC = "\x1b[31mred\x1b]0;title\x07"  # a colour, then a window title ended by BEL
SHOWN = "\\x1b[31mred\\x1b]0;title\\x07"
T0 = 1_800_000_000.0


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"), SPASMWATCH_DATA_DIR=str(tmp_path / "data"), TZ="UTC")
    got = subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=60, env=env)
    assert got.returncode == 0, got.stdout + got.stderr
    assert "\x1b" not in got.stdout and "\x07" not in got.stdout, got.stdout
    return got


def test_listings_show_control_characters_and_keep_them_stored(tmp_path: Path) -> None:
    """Found by the report review. Old code: 'note' echoed its text, 'treatment list' the drug's
    --note, 'events' a note's text and who wrote it (the web page's and the API's 'by'), and
    'clusters' and 'summary' a band's name, each with its ESC and BEL raw: the terminal turned red and retitled."""
    db = tmp_path / "data" / "spasmwatch.db"
    db.parent.mkdir()
    with Store(db) as st:
        st.upsert_device("band-1", name=f"cot{ESC}", wall_s=T0)
        st.add_note(T0 + 60, "note", f"web {ESC}\nCLUSTER #9 forged", "band-1", f"mum{ESC}")
        st.upsert_cluster("band-1", "c1", T0, T0 + 30, 3, T0 + 20, 600.0, True, [], wall_s=T0)
    since = ["--since", "2027-01-01", "--until", "2027-02-01"]
    assert f"note: typed {SHOWN}" in _cli(tmp_path, "note", f"typed {ESC}", "--db", str(db)).stdout
    assert f"(why {SHOWN})" in _cli(tmp_path, "treatment", "add", "ACTH", "--action", "stop", "--note", f"why {ESC}", "--db", str(db)).stdout
    assert f"(why {SHOWN})" in _cli(tmp_path, "treatment", "list", "--db", str(db)).stdout
    events = _cli(tmp_path, "events", "--db", str(db), *since).stdout
    assert f"note (note): web {SHOWN}\\x0aCLUSTER #9 forged - mum{SHOWN}" in events, events
    assert f"cot{SHOWN}" in events and len(events.splitlines()) == 2, events  # the forged line is none
    assert f"cot{SHOWN}" in _cli(tmp_path, "clusters", *since).stdout
    assert f"cot{SHOWN}" in _cli(tmp_path, "summary", "--db", str(db), "--at", "2027-01-15T09:00").stdout  # the daily push's words
    with Store.open_readonly(db) as st:
        assert [n.text for n in st.notes()] == [f"typed {ESC}", f"web {ESC}\nCLUSTER #9 forged"]  # kept as given


def test_status_shows_control_characters_in_who_acknowledged_and_in_alerts() -> None:
    """An MQTT client's ack names who acknowledged: old code printed it, and the title and text
    naming it, raw."""
    from spasmwatch.commands.status import alert_lines  # new with the fix: the lines status prints

    alert = {"id": 4, "state": "ALERTING", "acked_by": f"HA{ESC}", "title": f"Cluster on cot{ESC}", "text": f"3 spasms\nacked by HA{ESC}"}
    assert alert_lines({"alerts": [alert]}) == [
        f"ALERT #4 ALERTING (acknowledged by HA{SHOWN}): Cluster on cot{SHOWN}", "  3 spasms", f"  acked by HA{SHOWN}"
    ]
    assert alert_lines({"alerts": [dict(alert, state="CLOSED")]}) == ["no open alerts"]


def test_scan_shows_control_characters_in_an_advertised_name(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    """Hostile review: a name is what any device in radio range advertises with the spasmwatch
    service, and 'scan' printed it, and the add-band command it suggests, raw. Old code: the ESC and
    BEL reached the terminal (found_line is new with the fix: the line scan prints of a band)."""
    from spasmwatch.commands.scan import _next_step, found_line
    from spasmwatch.transport.base import Found

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    band = Found(f"spasmwatch-00A1{ESC}", "AA:BB:CC:DD:EE:FF", -61, "ble")
    assert found_line(band) == f"ble     spasmwatch-00A1{SHOWN}  AA:BB:CC:DD:EE:FF  -61 dBm"
    assert _next_step([band]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and f"spasmwatch-00A1{SHOWN}" in out, out


def test_a_bidi_override_is_shown_and_right_to_left_text_is_not() -> None:
    """Left by the fix review: U+202E in a note reversed the rest of its line on a terminal that does
    bidi ('dose 5<RLO>gm' read 'dose 5mg'). Hebrew, Arabic, umlauts and emoji print as they are.
    Old code: the override printed raw."""
    from spasmwatch.words import visible

    assert visible("dose 5\u202egm, \u2067x\u2069") == "dose 5\\u202egm, \\u2067x\\u2069"
    assert visible("שלום مرحبا Grüße 👶") == "שלום مرحبا Grüße 👶"

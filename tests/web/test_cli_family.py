"""The family's commands (ack, mute, status) against a real local HttpServer, a fake daemon behind
it: what each does with two bands (twins) and what it says and returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_daemon import FakeDaemon
from web_harness import ServerThread

from spasmwatch import cli
from spasmwatch.commands._daemon import hm


def _config(tmp_path: Path, port: int) -> str:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[daemon.http]\nhost = "127.0.0.1"\nport = {port}\n')
    return str(cfg)


def _twins_alarmed(fake: FakeDaemon) -> tuple[int, int]:
    """Both babies' bands in a cluster alarm: the alert ids, Mila's then Noah's."""
    now = fake.now()
    fake.add_cluster(now - 120, device="SW-0001")
    fake.add_cluster(now - 60, device="SW-0002")
    mila, noah = (next(a["id"] for a in fake.alerts.values() if a["device"] == d) for d in ("SW-0001", "SW-0002"))
    return mila, noah


def test_ack_without_a_number_acknowledges_nothing_while_two_alerts_are_open(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Family review: with twins, 'spasmwatch ack' acknowledged every open alert of every band, so
    one parent's ack for Mila stopped the escalation of Noah's alarm too. Old code: exit 0, both
    alarms ACKNOWLEDGED. Now it lists them and asks for a number (or --all)."""
    fake = FakeDaemon(bands=2)
    mila, noah = _twins_alarmed(fake)
    with ServerThread(fake) as srv:
        rc = cli.main(["ack", "--config", _config(tmp_path, srv.port)])
        err = capsys.readouterr().err
        assert rc == 2, err
        assert [c for c in fake.calls if c[0] == "ack"] == [] and {a["state"] for a in fake.alerts.values()} == {"ALARM"}
        assert "2 alerts are open" in err and f"#{mila} ALARM: ALARM: possible spasm cluster (Mila's band)" in err, err
        assert f"#{noah} ALARM: ALARM: possible spasm cluster (Noah's band)" in err, err
        assert f"'spasmwatch ack {mila} --config {tmp_path / 'config.toml'}'" in err and "--all" in err, err
        # --all: every open one, on purpose
        rc = cli.main(["ack", "--all", "--config", _config(tmp_path, srv.port), "--by", "Dad"])
        out = capsys.readouterr().out
        assert rc == 0 and f"alert #{mila} ACKNOWLEDGED" in out and f"alert #{noah} ACKNOWLEDGED" in out, out


def test_ack_without_a_number_acknowledges_the_one_open_alert(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One open alert (another already acknowledged): no number needed, as before."""
    fake = FakeDaemon(bands=2)
    mila, noah = _twins_alarmed(fake)
    with ServerThread(fake) as srv:
        assert cli.main(["ack", str(mila), "--config", _config(tmp_path, srv.port), "--by", "Mum"]) == 0
        capsys.readouterr()
        assert cli.main(["ack", "--config", _config(tmp_path, srv.port), "--by", "Dad"]) == 0
        assert f"alert #{noah} ACKNOWLEDGED: acknowledged by Dad" in capsys.readouterr().out
        assert cli.main(["ack", "--config", _config(tmp_path, srv.port)]) == 2
        assert "no open alert to acknowledge" in capsys.readouterr().err


class _EndsAfterItsStatus(FakeDaemon):
    """Mila's cluster alarm ends (CLOSED) after 'ack' read the status that showed it open, just
    before its ack comes."""

    mila = 0

    def ack(self, alert_id: int, by: str) -> dict[str, Any]:
        if alert_id == self.mila:
            self.alerts[alert_id]["state"] = "CLOSED"
        return super().ack(alert_id, by)


def test_ack_of_an_alert_that_had_already_ended_says_so_calmly_and_acks_the_others(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Review h48: the daemon answers an ack of an alert that ended before it came 409 alert_over
    (Daemon.ack). 'spasmwatch ack N' printed it as an error ("error: alert N had already ended:
    'spasmwatch status' lists the open alerts..."), exit 2, and 'ack --all' stopped there: an alert
    listed open that ended meanwhile left every one after it unacknowledged, their escalation
    running. Now it says, as the page does, that it had already ended and there is nothing more to
    do, exit 0, and goes on with the others."""
    fake = _EndsAfterItsStatus(bands=2)
    mila, noah = _twins_alarmed(fake)
    fake.mila = mila
    with ServerThread(fake) as srv:
        cfg = _config(tmp_path, srv.port)
        rc = cli.main(["ack", "--all", "--config", cfg, "--by", "Dad"])
        out, err = capsys.readouterr()
        assert rc == 0 and err == "", err
        assert f"alert #{mila} had already ended: nothing more to do for it\n" in out, out
        assert f"alert #{noah} ACKNOWLEDGED: acknowledged by Dad" in out and fake.alerts[noah]["acked_by"] == "Dad", out
        assert cli.main(["ack", str(mila), "--config", cfg]) == 0
        out, err = capsys.readouterr()
        assert (out, err) == (f"alert #{mila} had already ended: nothing more to do for it\n", ""), (out, err)
        assert cli.main(["ack", str(noah + 100), "--config", cfg]) == 2  # an id never used: still an error
        assert f"no alert {noah + 100}: 'spasmwatch status' lists" in capsys.readouterr().err


def test_ack_of_an_alert_another_parent_saw_to_before_it_ended_says_who(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Review h49: Mum acknowledged Mila's alarm from the page and it then closed (its cluster had
    ended); Dad's 'spasmwatch ack N' a moment later is answered 409 alert_over naming her
    (``acked_by``), and says so: "alert #N had already ended; Mum had acknowledged it", exit 0. It
    said only that there was nothing more to do, as for an alarm nobody had seen to."""
    fake = FakeDaemon(bands=2)
    mila, _noah = _twins_alarmed(fake)
    fake.ack(mila, "Mum")
    fake.alerts[mila]["state"] = "CLOSED"
    with ServerThread(fake) as srv:
        rc = cli.main(["ack", str(mila), "--config", _config(tmp_path, srv.port), "--by", "Dad"])
        out, err = capsys.readouterr()
    assert (rc, out, err) == (0, f"alert #{mila} had already ended; Mum had acknowledged it\n", ""), (rc, out, err)
    assert fake.alerts[mila]["acked_by"] == "Mum"


def test_ack_refuses_a_number_with_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(FakeDaemon()) as srv:
        assert cli.main(["ack", "3", "--all", "--config", _config(tmp_path, srv.port)]) == 2
    assert "either an alert number or --all" in capsys.readouterr().err


def test_mute_without_for_keeps_a_longer_mute_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Family review: 'spasmwatch mute cot' (the default 30 min) cut a 2 h mute Mum had set for the
    charger down to 30 min, without a word. Old code: muted_until now + 30 min, 'band notices muted
    for 30m'. Now the longer mute stays and is said; an explicit --for shorter than it applies and
    says what it replaced."""
    fake = FakeDaemon(now=1_709_629_200.0)
    until = fake.now() + 2 * 3600
    fake.bands[0].update(muted_until=until, muted_by="Mum")
    with ServerThread(fake) as srv:
        cfg = _config(tmp_path, srv.port)
        assert cli.main(["mute", "SW-0001", "--config", cfg]) == 0
        out = capsys.readouterr().out
        assert fake.bands[0]["muted_until"] == until and not [c for c in fake.calls if c[0] == "mute"], out
        assert out.startswith(f"SW-0001: already muted until {hm(until)} by Mum, longer than 30m: kept (")
        assert "--for 30m" in out and "--off" in out, out
        assert cli.main(["mute", "SW-0001", "--for", "10m", "--config", cfg, "--by", "Dad"]) == 0
        out = capsys.readouterr().out
        assert fake.bands[0]["muted_until"] == fake.now() + 600, out
        assert f"SW-0001: band notices muted for 10m (it was muted until {hm(until)} by Mum); a spasm cluster still raises the alarm" in out


def test_mute_lengthens_a_shorter_mute_without_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeDaemon(now=1_709_629_200.0)
    fake.bands[0].update(muted_until=fake.now() + 300, muted_by="Mum")
    with ServerThread(fake) as srv:
        assert cli.main(["mute", "SW-0001", "--config", _config(tmp_path, srv.port)]) == 0
    assert fake.bands[0]["muted_until"] == fake.now() + 1800
    assert capsys.readouterr().out == "SW-0001: band notices muted for 30m; a spasm cluster still raises the alarm\n"


def _stale(fake: FakeDaemon) -> None:
    """Noah's band out of reach: its STALE alert, as the engine's snapshot gives it."""
    fake.alerts[99] = {"id": 99, "device": "SW-0002", "kind": "disconnected", "state": "STALE", "urgency": "high",
                       "title": "Band disconnected (Noah's band)", "text": "No data from the band for 60 s.",
                       "created_t": fake.now(), "updated_t": fake.now(), "acked_by": None, "cluster_id": None}  # fmt: skip


@pytest.mark.parametrize("json_out", [False, True])
def test_status_exits_1_while_something_needs_a_person(tmp_path: Path, capsys: pytest.CaptureFixture[str], json_out: bool) -> None:
    """Family review: 'status' exited 0 with a band disconnected or an alarm open, so a script (a
    cron job, a Home Assistant command sensor) could not tell all-good from not. Old code: 0 for
    each. Now 1 while it lists an open alert, a channel not delivering or the store not open; 0
    when all is good; 2 stays an error (no daemon)."""
    fake = FakeDaemon(bands=2)
    extra = ["--json"] if json_out else []
    with ServerThread(fake) as srv:
        cfg = _config(tmp_path, srv.port)

        def status() -> int:
            rc = cli.main(["status", "--config", cfg, *extra])
            capsys.readouterr()
            return rc

        assert status() == 0
        srv.call(_stale, fake)
        assert status() == 1
        fake.alerts.clear()
        fake.add_cluster(fake.now() - 60, device="SW-0001")
        assert status() == 1
        fake.alerts.clear()
        fake.channels_failing = [{"channel": "ntfy", "since": fake.now(), "error": "connection refused", "network": True}]
        assert status() == 1
        fake.channels_failing = []
        fake.store = {"since": fake.now(), "error": "disk full", "retry_s": 30.0}
        assert status() == 1
        fake.store = None
        assert status() == 0

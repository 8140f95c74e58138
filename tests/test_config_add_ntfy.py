"""A phone added after the first run: 'config add-ntfy' (and 'add-webhook'), its caregiver, and a
test alarm reaching it once the daemon that runs the config is told to reload (SIGHUP).

The real CLI in a subprocess on a config in a temporary folder (as test_config_init.py), read
back with tomllib and the real loader; the end-to-end one runs 'spasmwatch run' and sends
'test-alarm --channel' to an ntfy-like receiver on 127.0.0.1 (servers.http_recorder)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from servers import free_port, http_recorder
from test_config_init import README_LIKE, TOPIC_RE

from spasmwatch.config import Caregiver, Ntfy, Webhook, load_config, unnamed_ntfy_name

DAEMON_UP_S = 30.0  # 'run' answers /api/status within a few seconds on the shared test machine


def env_of(tmp_path: Path) -> dict[str, str]:
    """sw()'s environment, and no systemd unit of this machine's user ('service install' writes here)."""
    return dict(os.environ, SPASMWATCH_CONFIG=str(tmp_path / "default" / "config.toml"), SPASMWATCH_DATA_DIR=str(tmp_path / "data"),
                XDG_CONFIG_HOME=str(tmp_path / "xdg"))  # fmt: skip


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=150, env=env_of(tmp_path))


def test_add_ntfy_new_with_a_caregiver_appends_both_tables_after_the_last_byte(tmp_path: Path) -> None:
    topics, ours = [], README_LIKE.replace("port = 8765", f"port = {free_port()}")  # no daemon answers there
    for i, old in enumerate((ours.replace("\r\n", "\n"), ours)):
        config = tmp_path / f"c{i}.toml"
        config.write_bytes(old.encode("utf-8"))
        config.chmod(0o640)
        r = cli(tmp_path, "config", "add-ntfy", "new", "--caregiver", "grandma", "--min-urgency", "urgent", "--config", str(config))
        assert r.returncode == 0, r.stderr
        new = config.read_bytes().decode("utf-8")
        # every byte above as it was; its mode too but for the group's read, which a file holding ntfy topics loses
        # (config.write_mode: the security review of 2026-12-07)
        assert new.startswith(old) and stat.S_IMODE(config.stat().st_mode) == 0o600
        cfg = load_config(config)
        ours, grandmas = cfg.channels.ntfy
        assert ours == Ntfy(url="https://ntfy.sh/ours") and grandmas.name == "grandma" and TOPIC_RE.fullmatch(grandmas.url), grandmas
        assert cfg.caregivers == [Caregiver(name="grandma", channels=["ntfy:grandma"], min_urgency="urgent")]
        assert "ntfy:grandma" in cfg.channels.refs()
        nl = "\r\n" if "\r\n" in old else "\n"
        assert new[len(old) :] == nl * 2 + nl.join((  # after the closing comment, which had no line break
            "[[channels.ntfy]]", f'url = "{grandmas.url}"', 'name = "grandma"', "",
            "[[caregivers]]", 'name = "grandma"', 'channels = ["ntfy:grandma"]', 'min_urgency = "urgent"', "",
        )), repr(new[len(old) :])  # fmt: skip
        topic = grandmas.url.rsplit("/", 1)[1]
        assert r.stdout.startswith(f"added [channels.ntfy #2] ntfy:grandma and [caregivers #1] grandma at the end of {config}\n"), r.stdout
        # Found by the family audit: grandma's own topic was introduced as "phones:", the family's.
        assert f"grandma's phone: the alarms go to the ntfy topic {topic} ({grandmas.url})\n" in r.stdout and f"tap +,\n  topic {topic}, Subscribe" in r.stdout
        assert "keep the topic private, like a password: anyone who knows it reads the alarms (and can send false ones); it holds 144 random bits" in r.stdout
        assert "ntfy:grandma reaches grandma only ([[caregivers]] grandma): alarms only, and the news of those (updated, acknowledged, false alarm)\n" in r.stdout
        assert r.stdout.endswith(  # no daemon runs, no service is installed
            f"next: spasmwatch run --config {config} (the monitor: it keeps running in its window until Ctrl+C), then in another window: spasmwatch test-alarm --channel ntfy:grandma --config {config} (does that phone ring?)\n"
        ), r.stdout
        topics.append(topic)
    assert topics[0] != topics[1] and all(len(t) == len("spasmwatch-") + 24 for t in topics)  # 144 random bits each time


def test_add_ntfy_url_without_a_caregiver_is_a_house_channel_named_phones(tmp_path: Path) -> None:
    """Without --name the channel is "phones" (then "phones-2"): unnamed, the config calls it by its
    topic, the secret, in the journal, the status and Home Assistant (it was ntfy:our-home)."""
    config = tmp_path / "c.toml"
    assert cli(tmp_path, "config", "init", "--band", "crib", "--config", str(config)).returncode == 0
    before = config.read_bytes()
    r = cli(tmp_path, "config", "add-ntfy", "https://ntfy.example.org/our-home", "--config", str(config))
    assert r.returncode == 0 and config.read_bytes().startswith(before), r.stderr
    cfg = load_config(config)
    assert cfg.channels.ntfy == [Ntfy(url="https://ntfy.example.org/our-home", name="phones")] and cfg.caregivers == []
    assert "topic our-home, 'Use another server': https://ntfy.example.org, Subscribe" in r.stdout and "make it long and random" in r.stdout
    assert "ntfy:phones: no caregiver names it, so it gets what every house channel gets (alarms, warnings, band notices)\n" in r.stdout
    assert "spasmwatch test-alarm --channel ntfy:phones --config" in r.stdout
    assert cli(tmp_path, "config", "add-ntfy", "new", "--config", str(config)).returncode == 0
    assert [n.name for n in load_config(config).channels.ntfy] == ["phones", "phones-2"]
    hook = cli(tmp_path, "config", "add-webhook", "https://hooks.example.org/spasm", "--caregiver", "dad", "--config", str(config))
    assert hook.returncode == 0 and hook.stdout.startswith(f"added [channels.webhook #1] webhook:dad and [caregivers #1] dad at the end of {config}\n"), hook.stderr
    cfg = load_config(config)
    assert cfg.channels.webhook == [Webhook(url="https://hooks.example.org/spasm", name="dad")]
    assert cfg.caregivers == [Caregiver(name="dad", channels=["webhook:dad"])] and "phones:" not in hook.stdout
    assert "test-alarm --channel webhook:dad --config" in hook.stdout and "(does it arrive?)" in hook.stdout


def test_add_ntfy_refuses_what_is_there_already_and_bad_options_writing_nothing(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    old = (
        '[[channels.ntfy]]\nurl = "https://ntfy.sh/family-topic"\n\n[[channels.ntfy]]\nurl = "https://ntfy.sh/x2"\nname = "Grandma"\n\n'
        '[[channels.webhook]]\nurl = "https://hooks.example.org/a"\n\n[[caregivers]]\nname = "Dad"\nchannels = ["ntfy:family-topic"]\n'
    )
    config.write_text(old)
    for args, said in (
        (("add-ntfy", "HTTPS://NTFY.SH/x2/"), "URL: expected \"new\" or an http(s) URL"),  # the loader's own rule
        (("add-ntfy", "https://ntfy.SH/x2"), f'{config}: [channels.ntfy #2] already has url = "https://ntfy.sh/x2": not adding it twice'),
        (("add-ntfy", "new", "--caregiver", "grandma"), f'{config}: [channels.ntfy #2] already has name = "Grandma": give this one another --name'),
        (("add-ntfy", "https://ntfy.sh/y", "--name", "family-topic"),
         f"{config}: [channels.ntfy #1] went by ntfy:family-topic before (caregivers may still list it so): give this one another --name"),
        (("add-ntfy", "https://ntfy.sh/y", "--name", unnamed_ntfy_name("https://ntfy.sh/family-topic")),
         f"{config}: [channels.ntfy #1] is ntfy:{unnamed_ntfy_name('https://ntfy.sh/family-topic')} already "
         "(no name: its server and a hash of its URL name it): give this one another --name"),
        (("add-ntfy", "new", "--name", "dads", "--caregiver", "dad"),
         f"{config}: [caregivers #1] already has name = \"Dad\": not adding a second one (add the channel without --caregiver, then: "
         "spasmwatch config set caregivers.0.channels '[\"ntfy:family-topic\", \"ntfy:dads\"]')"),
        (("add-ntfy", "new", "--min-urgency", "urgent"), "--min-urgency: only with --caregiver (it is that caregiver's filter)"),
        (("add-ntfy", "new", "--caregiver", "gran", "--min-urgency", "warning"), "argument --min-urgency: invalid choice: 'warning' (choose from"),
        (("add-ntfy", "new", "--caregiver", "a:b"), f"{config}: [channels.ntfy #3] name: expected a non-empty name without ':', got \"a:b\""),
        (("add-ntfy", "ntfy.sh/topic"), 'URL: expected "new" or an http(s) URL ending in the topic'),
        (("add-webhook", "https://hooks.example.org/b"),
         f"{config}: [channels.webhook #1] is webhook:hooks.example.org already (no name: its URL's host names it): give this one another --name"),
    ):
        r = cli(tmp_path, "config", *args, "--config", str(config))
        assert r.returncode == 2 and said in r.stderr, (args, r.stderr)
    assert config.read_text() == old
    inline = tmp_path / "inline.toml"
    inline.write_text('channels = {ntfy = [{url = "https://ntfy.sh/a"}]}\n')
    r = cli(tmp_path, "config", "add-ntfy", "new", "--caregiver", "gran", "--config", str(inline))
    assert r.returncode == 2 and f"{inline}: the [[channels.ntfy]] and [[caregivers]] tables cannot be added at its end (" in r.stderr, r.stderr
    assert r.stderr.rstrip().endswith("add the ntfy channel and the caregiver by hand"), r.stderr
    missing = tmp_path / "none.toml"
    r = cli(tmp_path, "config", "add-ntfy", "new", "--config", str(missing))
    assert r.returncode == 2 and r.stderr == (
        f"spasmwatch config: error: no config at {missing} yet: start one with 'spasmwatch config init --ntfy new --config {missing}'\n"
    )
    assert not missing.exists()


def test_a_topic_ntfy_would_refuse_is_refused_before_the_phones_are_told_to_subscribe(tmp_path: Path) -> None:
    """Found by the first-run audit: 'add-ntfy "https://ntfy.sh/my topic"' (or app.html, a topic
    with a '.') was written, and the phones told to subscribe to a topic the ntfy app refuses;
    ntfy.sh answers 404 to every push there. ntfy takes [-_A-Za-z0-9]{1,64} (docs.ntfy.sh)."""
    config = tmp_path / "c.toml"
    config.write_text("[alerts]\n")
    for url in ("https://ntfy.sh/my topic", "https://ntfy.sh/app.html", "https://ntfy.sh/" + "a" * 65):
        r = cli(tmp_path, "config", "add-ntfy", url, "--config", str(config))
        assert r.returncode == 2 and "URL: the topic " in r.stderr and (
            "ntfy takes letters, digits, - and _ only (1 to 64 of them): 'new' makes one" in r.stderr), r.stderr
        r = cli(tmp_path, "config", "init", "--ntfy", url, "--config", str(tmp_path / "new.toml"))
        assert r.returncode == 2 and "--ntfy: the topic " in r.stderr, r.stderr
    assert config.read_text() == "[alerts]\n" and not (tmp_path / "new.toml").exists()
    r = cli(tmp_path, "config", "add-ntfy", "https://ntfy.example.org/Family_topic-2?auth=x", "--config", str(config))
    assert r.returncode == 0, r.stderr  # a query is not the topic (ntfy's ?auth=)


def _wait_up(port: int, daemon: subprocess.Popen[str], log: Path) -> None:
    end = time.monotonic() + DAEMON_UP_S
    while True:
        assert daemon.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as r:
                json.loads(r.read())
                return
        except OSError:
            assert time.monotonic() < end, f"the daemon did not answer within {DAEMON_UP_S:g} s"
            time.sleep(0.1)


def _stop(daemon: subprocess.Popen[str]) -> None:
    daemon.terminate()
    daemon.wait(30)


def test_a_phone_added_while_the_daemon_runs_rings_after_the_reload_it_asks_for(tmp_path: Path) -> None:
    config, port = tmp_path / "c.toml", free_port()
    assert cli(tmp_path, "config", "init", "--config", str(config)).returncode == 0
    assert cli(tmp_path, "config", "add-band", "crib", "--transport", "sim", "--address", f"127.0.0.1:{free_port()}", "--config", str(config)).returncode == 0
    for key, value in (("daemon.http.port", str(port)), ("channels.sound.enabled", "false"), ("channels.desktop.enabled", "false")):
        assert cli(tmp_path, "config", "set", key, value, "--config", str(config)).returncode == 0

    def start() -> subprocess.Popen[str]:
        log = tmp_path / "daemon.log"
        with open(log, "w") as out:  # a file, not a pipe nobody reads while the daemon logs its band retries
            d = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], env=env_of(tmp_path), stderr=out, text=True)
        _wait_up(port, d, log)
        return d

    async def main() -> None:
        async with http_recorder() as phone:  # grandma's ntfy server
            daemon = await asyncio.to_thread(start)
            try:
                url = f"{phone.url}/grandma-{'x' * 20}"
                added = await asyncio.to_thread(cli, tmp_path, "config", "add-ntfy", url, "--caregiver", "grandma", "--config", str(config))
                assert added.returncode == 0, added.stderr
                # The daemon started by hand from this file is found by its pid (in the store's lock).
                assert added.stdout.endswith(
                    f"the daemon running now applies c.toml when told to reload: ntfy:grandma gets nothing until then.\n"
                    f"next: spasmwatch reload --config {config} (it says what changed, or why the edit was not applied), "
                    f"then spasmwatch test-alarm --channel ntfy:grandma --config {config} "
                    "(does that phone ring?)\n"
                ), added.stdout
                before = await asyncio.to_thread(cli, tmp_path, "test-alarm", "--channel", "ntfy:grandma", "--config", str(config))
                assert before.returncode == 2 and "no notification channel 'ntfy:grandma'" in before.stderr, before.stderr  # why it says reload
                reloaded = await asyncio.to_thread(cli, tmp_path, "reload", "--config", str(config))  # what it said to do
                assert reloaded.returncode == 0 and reloaded.stdout.endswith(": channel +ntfy:grandma; caregivers\n"), reloaded
                rang = await asyncio.to_thread(cli, tmp_path, "test-alarm", "--channel", "ntfy:grandma", "--by", "Mum", "--config", str(config))
                assert rang.returncode == 0 and "  ntfy:grandma: delivered\n" in rang.stdout, rang.stdout + rang.stderr
                (push,) = phone.seen
                assert (push.method, push.path, push.headers["Priority"]) == ("POST", f"/grandma-{'x' * 20}", "urgent"), push
                assert "Mum" in push.body.decode(), push.body

                unit = await asyncio.to_thread(cli, tmp_path, "service", "install", "--no-start", "--config", str(config))
                assert unit.returncode == 0 and (tmp_path / "xdg" / "systemd" / "user" / "spasmwatch.service").exists(), unit.stderr
                more = await asyncio.to_thread(cli, tmp_path, "config", "add-ntfy", "new", "--name", "aunt", "--config", str(config))
                assert more.returncode == 0 and more.stdout.endswith(
                    "the daemon running now applies c.toml when told to reload: ntfy:aunt gets nothing until then.\n"
                    f"next: spasmwatch reload --config {config} (it says what changed, or why the edit was not applied; "
                    "'systemctl --user reload spasmwatch' does the same without a word), "
                    f"then spasmwatch test-alarm --channel ntfy:aunt --config {config} (does that phone ring?)\n"
                ), more.stdout
            finally:
                await asyncio.to_thread(_stop, daemon)

    asyncio.run(asyncio.wait_for(main(), 240))
    down = cli(tmp_path, "config", "add-ntfy", "new", "--name", "uncle", "--config", str(config))  # a service stopped: restart starts it
    assert down.returncode == 0 and (
        "the service's daemon has not read this c.toml: ntfy:uncle gets nothing until it starts.\nnext: systemctl --user restart spasmwatch, then"
    ) in down.stdout, down.stdout


def test_a_url_ntfy_answers_with_a_refusal_though_its_topic_looks_right_is_refused(tmp_path: Path) -> None:
    """ntfy's own rule (server/server.go): a push goes to ^/[-_A-Za-z0-9]{1,64}$, so a URL ending in
    '/' is answered 404; and its reserved names (server/config.go DefaultDisallowedTopics: docs, app,
    ...) 400 'topic name is not allowed'. 'https://ntfy.sh/app' is the address bar of ntfy's web
    app, a likely paste. Both were written and the phones told to subscribe."""
    config = tmp_path / "c.toml"
    config.write_text("[alerts]\n")
    r = cli(tmp_path, "config", "add-ntfy", "https://ntfy.sh/family-topic/", "--config", str(config))
    assert r.returncode == 2 and "ends in '/'" in r.stderr and "family-topic" not in r.stderr, r.stderr  # (the secret)
    for url in ("https://ntfy.sh/app", "https://ntfy.sh/docs", "https://ntfy.sh/v1"):
        r = cli(tmp_path, "config", "add-ntfy", url, "--config", str(config))
        assert r.returncode == 2 and "ntfy keeps that name for its own pages" in r.stderr, r.stderr
    r = cli(tmp_path, "config", "init", "--ntfy", "https://ntfy.sh/app", "--config", str(tmp_path / "new.toml"))
    assert r.returncode == 2 and "--ntfy: the topic 'app'" in r.stderr, r.stderr
    assert config.read_text() == "[alerts]\n" and not (tmp_path / "new.toml").exists()
    r = cli(tmp_path, "config", "add-ntfy", "https://ntfy.sh/apps", "--config", str(config))
    assert r.returncode == 0, r.stderr  # a name that only starts like one is a topic

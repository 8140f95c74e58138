"""A family's night with every channel real, in about 4 minutes: a hand check, not run by CI.

    PYTHONPATH=host:firmware:tests .venv/bin/python tools/familynight.py OUT_DIR
    (OUTAGE_V=2400 RESTART_V=4900: out of range 40 simulated min, the daemon restarted meanwhile)

The real `spasmwatch run` (config from `config init`, --sim-time-scale 30x), the band firmware under
micropython reached through a TCP relay that goes "out of range", ntfy to an HTTP server on
127.0.0.1, mosquitto, the page in headless Chromium. The night: asleep, waking (342 s), a single
spasm, a cluster 5 min after waking, `ack`, `mute`, the band off 15 min, out of range, a daemon
restart, the battery low, then `note`, `summary`, `events`, `report`. OUT_DIR gets timeline.txt
(every push, CLI output and page text, on the simulated clock), page-*.png, pushes.json,
mqtt.json, daemon.log, report.html. Sim-only: the daemon's mono clock stays real, so
DISCONNECT_ALERT_S (60 s) is 30 simulated min here; the CLI commands read the real clock, so
`summary` and `note` are placed before the simulated night's events (docs/host.md).
"""
from __future__ import annotations

import asyncio, csv, json, os, random, socket, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from servers import Watcher, start_broker, stop_broker
from spasmwatch.transport.simband import SimBand, free_port

OUT = Path(sys.argv[1])
OUT.mkdir(parents=True, exist_ok=True)
SPEED = 30
PY = sys.executable
LOG = open(OUT / "timeline.txt", "w")


def say(msg: str) -> None:
    line = f"[v{vnow():7.0f}s] {msg}"
    print(line, flush=True)
    LOG.write(line + "\n"); LOG.flush()


# ---- the recording: morning (sleep, wake 342 s, single spasm 389 s, cluster 634 s) + band off 15 min + wake
def compose() -> Path:
    subprocess.run([PY, "-m", "spasmwatch", "simulate", str(OUT / "m.csv"), "--kind", "morning", "--seed", "2", "--rate", "52", "--isolated", "1"], check=True)
    rows = list(csv.reader(open(OUT / "m.csv")))
    head, body = rows[0], rows[1:]
    out = [head]
    out += body
    dt = 1 / 52
    t0 = float(body[-1][0]) + dt
    rnd = random.Random(1)
    n_off = int(900 * 52)
    for i in range(n_off):  # on the table: gravity on z, sensor noise only
        out.append([f"{t0 + i * dt:.6f}", f"{rnd.gauss(0, .004):.5f}", f"{rnd.gauss(0, .004):.5f}", f"{1 + rnd.gauss(0, .004):.5f}",
                    f"{rnd.gauss(0, .1):.4f}", f"{rnd.gauss(0, .1):.4f}", f"{rnd.gauss(0, .1):.4f}"])
    t1 = t0 + n_off * dt
    tail = [r for r in body if 700 <= float(r[0]) < 1800]
    base = float(tail[0][0])
    for r in tail:
        out.append([f"{t1 + float(r[0]) - base:.6f}"] + r[1:])
    p = OUT / "night.csv"
    with open(p, "w", newline="") as f:
        csv.writer(f).writerows(out)
    return p


# ---- ntfy-like push server
PUSHES: list[dict] = []


class H(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode(errors="replace")
        PUSHES.append({"v": vnow(), "path": self.path, "headers": {k: v for k, v in self.headers.items() if k.lower() in ("title", "priority", "tags", "actions", "click", "x-title", "x-priority", "x-tags")}, "body": body})
        say(f"PUSH {self.headers.get('Title') or self.headers.get('X-Title')!r} prio={self.headers.get('Priority') or self.headers.get('X-Priority')}: {body!r}")
        self.send_response(200); self.end_headers(); self.wfile.write(b"{}")

    do_PUT = do_POST

    def log_message(self, *a: object) -> None:
        pass


# ---- a radio range: a TCP proxy the band is reached through; 'out' refuses and cuts links
class Range:
    def __init__(self, target: int) -> None:
        self.target = target
        self.out = False
        self.conns: list[socket.socket] = []
        self.srv = socket.socket(); self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0)); self.srv.listen(8)
        self.port = self.srv.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            c, _ = self.srv.accept()
            if self.out:
                c.close(); continue
            try:
                u = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                c.close(); continue
            self.conns += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    def pipe(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while d := a.recv(65536):
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass

    def go_out(self) -> None:
        self.out = True
        for s in self.conns:
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass
        self.conns = []


ORIGIN = time.time()


def vnow() -> float:
    return (time.time() - ORIGIN) * SPEED


def wait_v(v: float) -> None:
    while vnow() < v:
        time.sleep(0.05)


def cli(*args: str) -> str:
    r = subprocess.run([PY, "-m", "spasmwatch", *args, "--config", str(CONFIG)], capture_output=True, text=True, env=ENV)
    text = f"$ spasmwatch {' '.join(args)}  (rc {r.returncode})\n{r.stdout}{r.stderr}"
    say("CLI " + text)
    return text


def shot(name: str) -> None:
    from playwright.sync_api import sync_playwright
    from browser import CHROMIUM, CHROMIUM_ARGS
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = b.new_page(viewport={"width": 420, "height": 1400})
        pg.goto(f"http://127.0.0.1:{HTTP_PORT}/")
        time.sleep(1.5)
        pg.screenshot(path=str(OUT / f"page-{name}.png"), full_page=True)
        (OUT / f"page-{name}.txt").write_text(pg.inner_text("body"))
        b.close()
    say(f"SHOT {name}: " + (OUT / f"page-{name}.txt").read_text().replace("\n", " | ")[:1500])


def start_daemon() -> subprocess.Popen:
    f = open(OUT / "daemon.log", "ab")
    return subprocess.Popen([PY, "-m", "spasmwatch", "run", "--config", str(CONFIG), "--sim-time-scale", f"{SPEED}@{ORIGIN}"], stdout=f, stderr=f, env=ENV)


night = compose()
broker = start_broker(OUT)
push = ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=push.serve_forever, daemon=True).start()
band_port = free_port()
rng = Range(band_port)
HTTP_PORT = free_port()
CONFIG = OUT / "config.toml"
ENV = dict(os.environ, SPASMWATCH_DATA_DIR=str(OUT / "data"))
if CONFIG.exists(): CONFIG.unlink()
subprocess.run([PY, "-m", "spasmwatch", "config", "init", "--band", "spasmwatch-0001", "--ntfy", f"http://127.0.0.1:{push.server_port}/night-topic-abcdefghijkl", "--config", str(CONFIG)], check=True, env=ENV)
text = CONFIG.read_text().replace('[[bands]]\nname = "spasmwatch-0001"', f'[[bands]]\nname = "spasmwatch-0001"\nlabel = "Sam"\ntransport = "sim"\naddress = "127.0.0.1:{rng.port}"')
text = text.replace("[daemon.http]\n", f"[daemon.http]\nport = {HTTP_PORT}\n")
text = text.replace("[channels.sound]\n", "[channels.sound]\nenabled = false\n")
text += f"\n[channels.mqtt]\nenabled = true\nhost = \"127.0.0.1\"\nport = {broker.port}\n\n[channels.desktop]\nenabled = false\n"
CONFIG.write_text(text)
watch = Watcher(broker.port)
DUR = 1800 + 900 + 1100
band = SimBand(night, OUT / "flash", port=band_port, hold=True, speed=SPEED, device_id="spasmwatch-0001", idle_exit_ms=150000,
               timeout_s=DUR / SPEED + 400, args=("--paced", "--battery-step-s", "3500:3560"))
ORIGIN = time.time()
d = start_daemon()
try:
    wait_v(200); shot("asleep"); cli("status")
    wait_v(500); shot("awake"); cli("status")
    wait_v(700); shot("cluster"); cli("status"); cli("events", "--since", "24h")
    wait_v(760); cli("ack")
    wait_v(800); shot("acked"); cli("status")
    wait_v(1750); cli("mute", "spasmwatch-0001", "--for", "10m")
    wait_v(2300); shot("band-off"); cli("status")
    wait_v(2900); say("RANGE out"); rng.go_out()
    wait_v(3000); shot("out-of-range"); cli("status")
    back_v, restart_v = 2900 + float(os.environ.get("OUTAGE_V", "180")), float(os.environ.get("RESTART_V", "3200"))
    for v, what in sorted([(back_v, "back"), (restart_v, "restart")]):
        wait_v(v)
        if what == "back":
            say("RANGE back"); rng.out = False
        else:
            say("DAEMON restart"); d.terminate(); d.wait(30); d = start_daemon()
            if restart_v < back_v:
                time.sleep(3); shot("restarted-band-away"); cli("status")
    wait_v(3600); shot("battery-low"); cli("status")
    wait_v(max(DUR, 2900 + float(os.environ.get("OUTAGE_V", "180"))) + 300)
    cli("note", "video taken of the cluster after waking", "--kind", "video")
    cli("summary"); cli("events", "--since", "24h"); cli("status")
    shot("morning")
    cli("report", "--out", str(OUT / "report.html"), "--until", time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(ORIGIN + 2 * 86400)))
finally:
    d.terminate(); d.wait(30)
    band.kill(); stop_broker(broker); push.shutdown()
    (OUT / "pushes.json").write_text(json.dumps(PUSHES, indent=1))
    (OUT / "mqtt.json").write_text(json.dumps([(t, p.decode(errors="replace")) for t, p in watch.seen], indent=1))
    watch.stop()

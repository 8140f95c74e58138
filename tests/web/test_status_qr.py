"""'spasmwatch status --qr': the page's link with its token as a QR code in the terminal, read back
as a phone would: the printed text drawn as a terminal shows it (numpy), decoded by zxing-cpp (a
real decoder), against a real HttpServer on 127.0.0.1 (a fake daemon behind it, as status's tests)."""

from __future__ import annotations

import http.client
import io
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import segno
import zxingcpp
from fake_daemon import FakeDaemon
from web_harness import ServerThread

from spasmwatch import cli
from spasmwatch.tls import self_signed, this_computers_names

TOKEN = "family+secret-0123456789"
PHONES_NAME = "nursery-pi.local"
# A terminal's default colours (grey levels): a dark one (light text on near black) and a light one.
DARK = (210, 25)
LIGHT = (25, 245)
_SGR = re.compile(r"(\033\[[0-9;]*m)")
# The colours the code may set (ANSI SGR), as grey levels: black text, bright white background.
_FG = {30: 0}
_BG = {107: 255}
# A character cell in pixels: half as wide as tall, as terminals draw them, so a module is square.
CELL_W, CELL_H = 4, 8


def _screen(text: str, terminal: tuple[int, int]) -> np.ndarray:
    """``text`` as a terminal whose default colours are ``terminal`` (foreground, background)
    shows it: half blocks drawn, every other character left as background (a letter is no module),
    a margin of its background around (which is no quiet zone on a dark terminal)."""
    halves = {" ": (1, 1), "\u2580": (0, 1), "\u2584": (1, 0), "\u2588": (0, 0)}  # (top, bottom): 0 drawn in fg
    rows: list[list[int]] = []
    for line in text.splitlines():
        fg, bg = terminal
        top: list[int] = []
        bottom: list[int] = []
        for piece in _SGR.split(line):
            if _SGR.fullmatch(piece):
                for code in (int(c or 0) for c in piece[2:-1].split(";")):
                    assert code == 0 or code in _FG or code in _BG, f"a colour the test does not draw: {code}"
                    fg, bg = terminal if code == 0 else (_FG.get(code, fg), _BG.get(code, bg))
                continue
            for ch in piece:
                t, b = halves.get(ch, (1, 1))
                top.append((fg, bg)[t])
                bottom.append((fg, bg)[b])
        rows += [top, bottom]
    width = max(len(r) for r in rows)
    grid = np.array([r + [terminal[1]] * (width - len(r)) for r in rows], dtype=np.uint8)
    grid = np.pad(grid, 4, constant_values=terminal[1])
    return np.repeat(np.repeat(grid, CELL_H // 2, axis=0), CELL_W, axis=1)


def _decoded(text: str, terminal: tuple[int, int]) -> list[str]:
    """What a decoder reads there, black on white only (a phone's camera may not try light on dark)."""
    found = zxingcpp.read_barcodes(_screen(text, terminal), formats=zxingcpp.BarcodeFormat.QRCode, try_invert=False)
    return [b.text for b in found]


def _config(tmp_path: Path, port: int, more: str = "") -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[daemon.http]\nport = {port}\ntoken = "{TOKEN}"\n{more}')
    return cfg


def _cookie_for(link: str, port: int) -> str | None:
    """The sign-in cookie the daemon on 127.0.0.1 gives for ``link``'s path and token (the phone's
    first visit), None when it refuses it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        u = urlsplit(link)
        conn.request("GET", f"{u.path}?{u.query}")
        answer = conn.getresponse()
        answer.read()
        return answer.getheader("Set-Cookie") if answer.status == 200 else None
    finally:
        conn.close()


def test_the_code_is_the_daemons_link_with_its_token_read_in_a_dark_and_a_light_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ServerThread(FakeDaemon(), require_token=True, token=TOKEN) as srv:
        cfg = _config(tmp_path, srv.port, f'lan = true\npage_url = "http://{PHONES_NAME}:{srv.port}/"\n')
        assert cli.main(["status", "--qr", "--config", str(cfg)]) == 0
        out = capsys.readouterr().out
        link = srv.server.link(PHONES_NAME)
        assert _decoded(out, DARK) == [link], out
        assert _decoded(out, LIGHT) == [link], out
        # The token the code carries is the one the daemon signs a phone in with.
        assert _cookie_for(link, srv.port) is not None
        assert _cookie_for(link.replace("0123456789", "0123456788"), srv.port) is None
    assert TOKEN not in out and "token=" not in out, out  # the token is in the code, not in the text under it
    assert f"web page for phones: http://{PHONES_NAME}:{srv.port}/ (the code holds this address with the page's token)" in out, out
    assert "whoever photographs this code can open the page and acknowledge alarms: do not share it" in out, out
    # The quiet zone: the code's first line and each line's first and last 2 cells (4 modules) are white, not the terminal's.
    first = out.splitlines()[0]
    assert first.startswith("\033[30;107m ") and first.endswith(" \033[0m") and set(first[len("\033[30;107m"):-len("\033[0m")]) == {" "}
    # What the test tells apart: the same code drawn in the terminal's own colours (segno's compact
    # writer, made for a dark terminal) is inverted in a light one, which the decoder does not read.
    own = io.StringIO()
    segno.make_qr(link).terminal(out=own, compact=True)
    assert _decoded(own.getvalue(), DARK) == [link] and _decoded(own.getvalue(), LIGHT) == []


def test_over_https_the_code_is_the_https_link_and_the_fingerprint_follows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cert_pem, key_pem = self_signed(*this_computers_names())
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    with ServerThread(FakeDaemon(), require_token=True, token=TOKEN, tls=(cert, key)) as srv:
        http_part = f'lan = true\npage_url = "https://{PHONES_NAME}:{srv.port}/"\ntls_cert = "{cert}"\ntls_key = "{key}"\n'
        assert cli.main(["status", "--qr", "--config", str(_config(tmp_path, srv.port, http_part))]) == 0
        link = srv.server.link(PHONES_NAME)
    out = capsys.readouterr().out
    assert link.startswith("https://") and _decoded(out, DARK) == [link], out
    assert "SHA-256 fingerprint" in out, out


def test_with_lan_and_no_page_url_the_code_names_this_computer_and_says_what_an_older_phone_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ServerThread(FakeDaemon(), require_token=True, token=TOKEN) as srv:
        assert cli.main(["status", "--qr", "--config", str(_config(tmp_path, srv.port, "lan = true\n"))]) == 0
        out = capsys.readouterr().out
    name = socket.gethostname()  # this computer by mDNS, as phones on the home network reach it
    host = name if "." in name else f"{name}.local"
    assert _decoded(out, DARK) == [srv.server.link(host)], out
    assert f"a phone that cannot open {host} (an older Android's resolves no .local name): 'spasmwatch config set daemon.http.page_url " \
        f"http://ADDRESS:{srv.port}/ --config {tmp_path / 'config.toml'}' with this computer's address on the home network ('hostname -I' " \
        "prints it first)" in out, out


@pytest.mark.parametrize(
    "http_part, why, steps",
    [
        ("", "it asks no token ([daemon.http] token), so it is served to this computer alone", ["config set daemon.http.token new", "config set daemon.http.lan true"]),
        (f'token = "{TOKEN}"\n', "it is served to this computer alone (127.0.0.1: [daemon.http] lan is not set)",
         ["config set daemon.http.lan true"]),
    ],
)
def test_no_code_for_a_page_no_phone_can_open_and_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], http_part: str, why: str, steps: list[str]
) -> None:
    with ServerThread(FakeDaemon(), token=TOKEN if http_part else "") as srv:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f"[daemon.http]\nport = {srv.port}\n{http_part}")
        assert cli.main(["status", "--qr", "--config", str(cfg)]) == 2
    out, err = capsys.readouterr()
    assert out == "", out
    said = ", then ".join(f"'spasmwatch {s} --config {cfg}'" for s in steps)
    assert f"no QR code: a phone cannot open the web page, {why}. For the phones: {said}, then 'spasmwatch status --qr --config {cfg}' again" in err, err


def test_no_code_when_no_daemon_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A code for a page nothing serves would open nothing on the phone: status's error instead."""
    with ServerThread(FakeDaemon()) as srv:
        port = srv.port
    assert cli.main(["status", "--qr", "--config", str(_config(tmp_path, port, "lan = true\n"))]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "spasmwatch status: error:" in err, (out, err)


def test_the_link_line_of_status_names_the_qr_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(FakeDaemon(), require_token=True, token=TOKEN) as srv:
        cfg = _config(tmp_path, srv.port, f'lan = true\npage_url = "http://{PHONES_NAME}:{srv.port}/"\n')
        assert cli.main(["status", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert f"'spasmwatch status --qr --config {cfg}' shows it as a QR code for a phone's camera" in out, out
    assert "\u2580" not in out and "\u2584" not in out, out  # the code is printed only when asked

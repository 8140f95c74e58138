"""``spasmwatch bonds [--revoke-others]``: which computers and phones are bonded to the band, and
remove every bond but this computer's.

In the 5 minutes after it is switched on the band bonds any phone or computer that pairs (Just
Works: no code to type). One that did, and that you do not know, can read the baby's events and
change the band's settings from then on. This command asks the band, through the running daemon
on the link it holds (monitoring goes on; the band must be connected now), or itself as the daemon
does when no daemon runs, how many are bonded and whether one of them is this computer, and with
``--revoke-others`` has the band remove every other bond:
those phones and computers can no longer connect securely, and another computer of yours pairs
again in the next 5 minutes after the band is switched off and on (docs/firmware.md, "Threat
model"). To remove every bond, this computer's too, use ``spasmwatch board forget-bonds`` with the
band on USB. A band the config reaches over USB (transport = "serial") is not asked: this computer
holds no bond there, so the band cannot tell its bond from a stranger's; the command says so.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any
from urllib.parse import quote

from spasmwatch.commands._args import command_line_by
from spasmwatch.commands._daemon import add_config_arg, api, config_of, daemon_config_of
from spasmwatch.config import Band, Config
from spasmwatch.daemon.api import bonds_on_usb
from spasmwatch.daemon.lock import lock_holder
from spasmwatch.errors import SpasmwatchError
from spasmwatch.words import in_quotes

_FORGET = "spasmwatch board forget-bonds"


def register(sub: Any) -> None:
    p = sub.add_parser("bonds", help="how many phones and computers are bonded to the band; remove all but this computer",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_config_arg(p)
    p.add_argument("--band", help="the band, by its label, name or address (default: the config's only band)")
    p.add_argument("--revoke-others", action="store_true", help="remove every bond but this computer's")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from swcore import protocol as P

    cfg = config_of(args)
    band = _band(cfg, args.band)
    if band.transport == "serial":  # (the daemon refuses it too: Daemon.bonds)
        raise SpasmwatchError(bonds_on_usb(band.title, band.port or ""))
    if lock_holder(cfg.store_path()) is not None:  # its daemon holds the band's one connection
        resp = _through_daemon(args, band)
    else:
        resp = asyncio.run(_ask(cfg, band, P.BONDS_REVOKE_OTHERS if args.revoke_others else P.BONDS_COUNT))
    _answered(band, resp)
    if args.revoke_others:
        n = int(resp["arg"])
        removed = f"removed the bonds of {n} other phone(s) or computer(s)" if n else "no other bond to remove"
        print(f"{band.title}: {removed}; only this computer is bonded now. The band pairs no new phone or computer "
              f"until it is next switched off and on (then, for {P.PAIRING_WINDOW_MS // 60000} minutes).")  # fmt: skip
        return 0
    n, known = int(resp["arg"]) & 0xFFFF, bool(int(resp["arg"]) & P.BONDS_ASKER_KNOWN)
    if not known:
        print(f"{band.title}: {n} phone(s) or computer(s) bonded; the band cannot tell which is this computer "
              f"(to start again from none: {in_quotes(_FORGET)} with the band on USB)")  # fmt: skip
        return 0
    others = f" and {n - 1} other(s): if you do not know them all, remove them with 'spasmwatch bonds --revoke-others'" if n > 1 else ""
    print(f"{band.title}: {n} bonded: this computer{others}")
    return 0


def _band(cfg: Config, name: str | None) -> Band:
    """The [[bands]] band ``name`` calls (its label, name or address), or the only one."""
    if name is not None:
        for b in cfg.bands:
            if name in (b.label, b.name, b.address, b.port):
                return b
        raise SpasmwatchError(f"--band: no band {name!r} in the config; it has {', '.join(repr(b.title) for b in cfg.bands) or 'none'}")
    if len(cfg.bands) != 1:
        said = ", ".join(repr(b.title) for b in cfg.bands)
        raise SpasmwatchError(f"the config has {len(cfg.bands)} bands ({said}): name one with --band" if said else "the config has no band")
    return cfg.bands[0]


def _through_daemon(args: argparse.Namespace, band: Band) -> dict[str, Any]:
    """BONDS sent by the running daemon on its link to ``band`` (its local API, behind its token):
    the band's RESP, or SpasmwatchError (the daemon's words: the band not connected now, ...)."""
    from spasmwatch.daemon import consts as K

    body = {"revoke_others": bool(args.revoke_others), "by": command_line_by()}
    path = f"/api/bands/{quote(band.title, safe='')}/bonds"
    resp: dict[str, Any] = api(daemon_config_of(args), path, body, timeout_s=K.BAND_ASK_S + K.BAND_ASK_HTTP_SLACK_S)
    return resp


async def _ask(cfg: Config, band: Band, action: int) -> dict[str, Any]:
    """Connect, secure the link (pair and bond, or re-encrypt with this computer's bond), send BONDS
    ``action`` and return the band's RESP; SpasmwatchError (the transport's, or another protocol version said)."""
    from swcore import protocol as P

    from spasmwatch.daemon import consts as K
    from spasmwatch.daemon.session import control_resp, other_version
    from spasmwatch.daemon.wiring import band_link

    link = band_link(band, cfg.store_path())()
    answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def decoded(data: bytes) -> dict[str, Any] | None:
        try:
            rec: dict[str, Any] = P.decode(data)
            return rec
        except P.ProtocolError:
            return None

    def on_control(data: bytes) -> None:
        rec = control_resp(bytes(data), decoded)
        if rec is not None and ("version" in rec or rec["opcode"] == P.OP_BONDS):
            answers.put_nowait(rec)

    await link.connect(K.CONNECT_TIMEOUT_S)
    try:
        await link.secure()
        await link.subscribe(P.CONTROL_UUID, on_control)
        await link.write(P.CONTROL_UUID, P.encode_bonds(action))
        try:
            resp = await asyncio.wait_for(answers.get(), K.REQUEST_TIMEOUT_S)
        except asyncio.TimeoutError:
            raise SpasmwatchError(f"{band.title} did not answer in {K.REQUEST_TIMEOUT_S:g} s") from None
    finally:
        await link.disconnect()
    if "version" in resp:
        raise SpasmwatchError(other_version(int(resp["version"])))
    return resp


def _answered(band: Band, resp: dict[str, Any]) -> None:
    """SpasmwatchError for a BONDS the band refused (its RESP's code, asked here or by the daemon), said."""
    from swcore import protocol as P

    from spasmwatch.daemon.session import NOT_BONDED

    code = resp["code"]
    if code == P.E_VERSION:  # through the daemon: its words (session.other_version, or the band's refusal)
        raise SpasmwatchError(resp["error"])
    if code == P.E_OPCODE:
        raise SpasmwatchError(f"this band's firmware is too old to list or remove its bonds: update it ('spasmwatch flash', docs/flashing.md); "
                              f"to remove every bond meanwhile: {in_quotes(_FORGET)} with the band on USB")  # fmt: skip
    if code == P.E_AUTH:
        raise SpasmwatchError(NOT_BONDED)
    if code == P.E_STATE:
        raise SpasmwatchError(f"{band.title} cannot tell this computer's bond from the others, so it removed none; to remove "
                              f"every bond: {in_quotes(_FORGET)} with the band on USB, then pair this computer again")  # fmt: skip
    if code != P.OK:
        raise SpasmwatchError(f"{band.title} refused: {resp['error']}")

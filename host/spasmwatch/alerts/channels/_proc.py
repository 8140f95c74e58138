"""Run a local command for a channel: bounded time, output kept for the error message."""

from __future__ import annotations

import asyncio

from spasmwatch.daemon.stopping import unblocked_in_child


async def run(argv: list[str], timeout_s: float) -> tuple[int, str]:
    """Return (exit code, stderr+stdout tail); exit code 124 on timeout (the process is killed),
    127 when the command cannot be started (not installed, not executable): a failure like any
    other, so the sound channel goes on to its next player and the bell."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            preexec_fn=unblocked_in_child,  # not the daemon's mask: a player ends on SIGTERM (systemd's stop)
        )  # fmt: skip
    except OSError as e:
        return 127, f"cannot run: {e.strerror or e}"
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return 124, f"no exit within {timeout_s:g} s"
    except asyncio.CancelledError:  # the daemon stops: no player left behind
        proc.kill()
        await proc.wait()
        raise
    text = out.decode(errors="replace").strip()
    return proc.returncode if proc.returncode is not None else -1, text[-300:]

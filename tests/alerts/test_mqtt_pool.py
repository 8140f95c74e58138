"""MQTT's waits on its broker hold no thread of the default pool (``asyncio.to_thread``'s).

Found by review: the channel waited for paho (the CONNACK, PUBACKs, the start's scan, a stop) in
``asyncio.to_thread``, whose default executor has min(32, cpus + 4) threads (6 on 2 cores), shared
with the serial bands' reads, the store's reopen and the web page's summaries. A broker that
stalled held them all for ``timeout_s`` each: the reviewer's 6 start scans against a listener that
never answered kept an unrelated ``to_thread`` call waiting 2.8 s. Shown here by order, not by
time: the other work is done while every MQTT wait is still pending. A real mosquitto (stopped
with SIGSTOP: connected, answering nothing) and a black-hole listener on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from servers import BlackHole, run_then_close

from spasmwatch.alerts.channels import MqttChannel, MqttSettings

from .conftest import Broker, notice

# How long each MQTT wait may take (s): far longer than the test's other work, so that on the old
# code the probe came only after the first MQTT wait gave up (the order asserted), not by chance.
STALL_S = 20.0


def default_pool_size() -> int:
    """The threads of asyncio's default executor (ThreadPoolExecutor's default since Python 3.8)."""
    return min(32, (os.cpu_count() or 1) + 4)


async def until(ok: object, what: str, timeout_s: float = 2 * STALL_S) -> None:
    async def poll() -> None:
        while not ok():  # type: ignore[operator]
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(poll(), timeout_s)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def test_a_stalled_broker_leaves_the_default_pool_to_the_rest_of_the_daemon(tmp_path: Path, broker: Broker) -> None:
    """As many sends as the default pool has threads to a broker that never answers the CONNECT,
    one to a broker that hung after connecting, and as many start scans: an unrelated ``to_thread``
    call (a file written) is done while all of them still wait.

    Old code: the sends took every thread (the scans and the probe queued behind them), and the
    probe ran once the first send gave up after ``timeout_s``: that send was over by then (its
    task's step was scheduled on the loop before the probe's result)."""
    hole = BlackHole()
    n = default_pool_size()
    unanswered = MqttChannel(MqttSettings(port=hole.port, timeout_s=STALL_S, name="unanswered"))
    hung = MqttChannel(MqttSettings(port=broker.port, timeout_s=STALL_S, name="hung"))
    # Longer: on the old code the sends, not these, were the first to give up (the order shown).
    scans = [MqttChannel(MqttSettings(port=hole.port, timeout_s=2 * STALL_S, name=f"scan{i}")) for i in range(n)]

    async def main() -> None:
        await hung.announce("cot")  # connected; then the broker hangs with the connection open
        broker.proc.send_signal(signal.SIGSTOP)
        waits = {f"unanswered send {i}": unanswered.send(notice(device=f"cot{i}")) for i in range(n)}
        waits["hung send"] = hung.send(notice())
        waits |= {f"{ch.name} at start": ch.say_unheard_away(1.0) for ch in scans}
        tasks = {what: asyncio.create_task(wait) for what, wait in waits.items()}
        try:
            await until(lambda: hole.accepted == 2 * n, "every link and scan to reach the black hole")
            await asyncio.to_thread((tmp_path / "probe").write_text, "written")
            assert (tmp_path / "probe").read_text() == "written"
            over = [what for what, t in tasks.items() if t.done()]
            assert not over, f"the unrelated to_thread call waited for MQTT: {over} gave up first"
        finally:
            for t in tasks.values():
                t.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            broker.proc.send_signal(signal.SIGCONT)
            for ch in (unanswered, hung, *scans):
                await ch.close()

    run_then_close(main, hole.close, lambda: broker.proc.send_signal(signal.SIGCONT), timeout_s=6 * STALL_S)

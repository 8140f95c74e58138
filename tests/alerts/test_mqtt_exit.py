"""MQTT's own threads hold no exit of the process: a broker's host name whose lookup hangs (a
reload comparing brokers, ``same_broker``) in one of them is given up when the daemon stops.

Found by the hostile review of threads.DetachedThreads: the serial ports' and the lookups' threads
were made daemon threads, MQTT's were left a ThreadPoolExecutor, which the interpreter's exit joins:
a stop during that lookup waited for it (resolv.conf's timeout times its attempts: minutes).

Real parts: a process of its own, the system resolver asking a DNS server on loopback that never
answers (servers.SilentDns, resolv.conf bound over in a mount namespace).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from servers import SilentDns

WAIT_S = 20.0  # a hang guard; the lookup hangs for minutes (SilentDns.RESOLV_OPTIONS)

_STOP_DURING_LOOKUP = """
import asyncio
from spasmwatch.alerts.channels.mqtt import MqttSettings, _off_loop, same_broker

async def main() -> None:
    a, b = MqttSettings(host="broker-a.example"), MqttSettings(host="broker-b.example")
    try:
        await asyncio.wait_for(_off_loop(same_broker, a, b), 1.0)
    except asyncio.TimeoutError:
        print("gave up", flush=True)

asyncio.run(main())
"""


def test_a_process_stopped_during_a_brokers_hung_lookup_ends(tmp_path: Path) -> None:
    """Old code: the process printed 'gave up', then did not end (its exit joined the thread)."""
    dns = SilentDns(tmp_path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen(dns.in_its_resolver(sys.executable, "-c", _STOP_DURING_LOOKUP), stdout=subprocess.PIPE, text=True, env=env)
    try:
        out, _ = proc.communicate(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"the process waited for the hung lookup at its exit (said {out!r})") from None
    assert proc.returncode == 0 and out == "gave up\n" and dns.asked, (proc.returncode, out, dns.asked)

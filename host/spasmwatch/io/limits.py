"""Limits the recording reader enforces, each with its unit and the reason for it.

These guard the replay input, not the detector (its thresholds live in
``swcore.consts``): a value outside them cannot be a real sample of an infant
band, so the file is refused with the line and field at fault rather than
replayed into nonsense.
"""

from __future__ import annotations

# Largest |acceleration| (g) a sample may have. Common MEMS IMUs report at most
# +-16 g, a few +-32 g; anything larger is corrupt data or a wrong unit
# (milli-g written as g).
MAX_ACC_G = 32.0
# Largest |angular rate| (deg/s). IMUs top out at +-2000 deg/s, a few at
# +-4000; larger values are corrupt data or a wrong unit (mdps, 0.1 deg/s).
MAX_GYRO_DPS = 4000.0
# A step between consecutive times must lie within these multiples of the
# nominal interval. One dropped sample is already 2x: the detector counts
# samples as time, so a gap or a burst would silently stretch or shrink every
# duration it measures. Jitter of a logging clock stays well inside +-50 %.
MIN_STEP_RATIO = 0.5
MAX_GAP_RATIO = 1.5
# ... widened by the times' resolution when they were written coarser than the
# samples: then rounding alone moves steps by up to one resolution (104 Hz to
# 10 ms: steps of 0, 10 and 20 ms, 4% of them zero). Seen as at least 1% of
# the first rows' steps a quarter interval off, in at least 100 rows; on the
# sample grid (100 Hz to 10 ms) no step is off and nothing is widened.
ROUNDED_SHARE = 0.01
ROUNDED_MIN_ROWS = 100
# "Coarser than the samples" and "a step off" above, as a fraction of the interval: a
# resolution of a quarter interval or more can move a step by that much, and sampling
# jitter of a logging clock stays well under it.
ROUNDED_OFF_RATIO = 0.25
# Median |acceleration| (g) of the first RATE_ROWS samples: gravity, which a band
# reads whether worn, carried or on a table (adult recordings of walking and daily
# living: 0.98-1.04 g). Outside this, the accel is not in g: m/s^2, as phone and
# logger apps write it, reads ~9.8 (inside MAX_ACC_G) and replayed as spasms
# everywhere on the accelerometer alone; a "linear acceleration" with gravity
# taken out reads ~0 (found by review).
MIN_GRAVITY_G = 0.5
MAX_GRAVITY_G = 2.0
# A median |acceleration| (in the file's unit) in this range is gravity in m/s^2 (9.81),
# with the same room around it as the bar above has around 1 g: the error then says to
# divide by 9.80665 rather than just "not in g".
MS2_GRAVITY_MIN = 5.0
MS2_GRAVITY_MAX = 20.0
# Over each run of RATE_CHECK_ROWS steps, and over each span of RATE_SPAN_ROWS, the
# mean step may differ from the nominal interval by at most MAX_RUN_RATE_CHANGE and
# MAX_RATE_CHANGE (plus, for rounded times, twice the rounding over the run: 104 Hz
# written to 10 ms is 0.2% off over 1000 steps). Each step may jitter by up to half
# an interval, so a logger that switched from 100 to 120 Hz partway passed the step
# test and was replayed at the wrong rate from there (every duration and time 17%
# off; found by review). Jitter and rounded times do not add up over a run (the
# mean step of n samples is off by at most a step's error over n), nor does the
# rate estimate (to ~3e-5). Runs, not only long spans: a file of one block whose
# rate changed averaged out to the rate of its first rows (researcher review).
# Runs and spans count from the file's first sample across parse blocks, and the
# last of each before a block's end is checked too (the file's last steps): until
# 2026-12-06 they began anew at each 1 MiB parse block, so a change in a file's
# last 999 steps, or in a file of long lines (blocks under 1000 rows), was never
# named, and a file's short last block was held to 1% (hostile review).
RATE_CHECK_ROWS = 1000
# A span: 200 s at 100 Hz, as a parse block of a typical file held (~21 500 lines).
RATE_SPAN_ROWS = 20_000
MAX_RATE_CHANGE = 0.01
# A run of RATE_CHECK_ROWS steps (10 s at 100 Hz) may be off by more than a
# span: a phone logger's delivered rate wanders by a few percent over seconds
# (its sensor shares a busy CPU) and averages out over the span, which keeps
# MAX_RATE_CHANGE. A true switch (100 -> 120 Hz, 17%; 100 -> 66.7 Hz, 33%) is
# well over it and is named within a run of where it happens.
MAX_RUN_RATE_CHANGE = 0.05
# Sample rates a recording may have (Hz). A 1-2 s spasm needs tens of samples
# (docs/detector.md measures 25-400 Hz), and no IMU outputs faster than
# ~32 kHz; a rate outside these is times in the wrong unit or corrupt times.
# 10 Hz, not lower: times in milliseconds at 100 or 104 Hz read as 0.1 Hz,
# which a bar of 0.1 Hz let through as 8 h of "not worn" (found by review).
MIN_RATE_HZ = 10.0
MAX_RATE_HZ = 100_000.0
# Samples read at open to estimate the rate: 4096 intervals span 40 s at
# 100 Hz, so millisecond-rounded times still give the rate to ~3e-5.
RATE_ROWS = 4096
# Fewest samples a recording can have: two give one interval, hence a rate.
MIN_SAMPLES = 2
# Bytes of CSV per parse piece. Measured on a 24 h 100 Hz file: 1 MiB pieces
# parse as fast as 4 MiB ones and keep the reader's memory lower.
PIECE_BYTES = 1 << 20
# Threads parsing pieces. The target is a 2-core machine; pyarrow releases
# the GIL, so two threads nearly halve the parse time there.
PARSE_THREADS = 2
# Parsed pieces each parse thread may run ahead of the consumer.
PREFETCH_PIECES = 2
# Samples per chunk handed to a consumer (rows of t, 3 accel, 3 gyro). Measured
# on a 24 h 100 Hz replay on 2 cores: 2^17 rows ran in 2.2 s at 220 MB peak
# RSS, 500k rows in 2.5 s at 376 MB, 1M in 3.0 s at 563 MB (a chunk's arrays,
# ~3 MB each, stay in cache); 2^16 gave no more speed. The detector's twin then
# works through each chunk in smaller pieces (analysis/twin.py, FEED_ROWS).
CHUNK_ROWS = 1 << 17
# The most 'replay --chunk-rows' takes. Peak RSS grows ~0.4 KB a row (the figures above:
# 1M rows, 563 MB), so 2^22 rows is ~2 GB, as much as a small host has; more gave no speed,
# and 10^12 ended in a numpy MemoryError traceback ('Unable to allocate 7.28 TiB'; input audit).
MAX_CHUNK_ROWS = 1 << 22
# Checked blocks (~1 MB of floats each) the checking thread may run ahead of
# the consumer: enough to ride out its uneven pace (it works chunk by chunk).
PREFETCH_BLOCKS = 8
# A header line longer than this is not a header (binary or one-line file).
MAX_HEADER_BYTES = 64 * 1024
# Lines the line-by-line re-scan examines after a fast-path failure. The fault
# lies within one piece, and a piece holds at most PIECE_BYTES / 8 lines (the
# shortest valid line, "0,0,0,0\n", has 8 bytes): twice that is ample.
RESCAN_MAX_LINES = PIECE_BYTES // 4
# Gyro units (io/units.py): a gyro in rad/s reads 57.3x too small, plausible deg/s that
# never cross the detector's rate bars. The check sums, over posture changes, gravity's
# turn against the gyro's integral: a band turns at least as far as gravity does in its
# frame, so in deg/s the integral is at least the tilt, in rad/s 1/57.3 of it.
# Windows (s) the acceleration is averaged over: jolts and steps average out, a
# posture change (rolling, being picked up or laid down) does not.
UNITS_WINDOW_S = 1.0
# Consecutive windows' mean acceleration this far apart (deg) is a posture change.
# Walking and turning never did in the real lumbar recordings (tests/data/real).
UNITS_TILT_MIN_DEG = 10.0
# Total tilt (deg) over posture changes before a verdict: several changes, so that
# one car pulling away (0.3 g tilts the mean 17 deg, with no turn) cannot decide it.
UNITS_EVIDENCE_DEG = 90.0
# Under this ratio of the gyro's integral to the tilt, the gyro is not deg/s. Physics
# gives at least 1 in deg/s (less only where linear acceleration tilts the mean) and
# 1/57.3 of the deg/s ratio in rad/s. Measured at the verdict (and at every block
# after it) on 18 simulated recordings with a gyro (the three simulators, every kind;
# 4 more had too little posture change for a verdict) and 3 real ones (tests/data/real;
# the fourth is walking and turning only): 1.65-11.6 in deg/s, 0.029-0.20 with the same gyros in rad/s (0.20:
# a thirdsim day that turns 11.6x more than it tilts, about gravity). 0.5 sits
# between, 3x from either side.
UNITS_MAX_TURN_RATIO = 0.5
# Under this largest |rate| (deg/s) over the evidence, the gyro columns are not rad/s but empty: a
# MEMS gyro's noise alone is 0.05-0.1 deg/s RMS, so a real one never reads this little through 90
# deg of posture changes, in either unit; a logger that writes 0 for a sensor it did not sample
# does. Multiplying zeros by 57.3 helps nobody: the warning then says to drop the columns.
UNITS_DEAD_GYRO_DPS = 0.01
# Several .swraw parts replayed as one recording must be dated alike: each part's header
# (wall_start_s of its index_origin) within this many sample intervals of where the first
# part's dating puts that index. The daemon dates every part of a boot from the one dating
# (daemon/rawparts.next_header), so they agree to float rounding (< 1 ms over years of
# parts); a part of another boot (its index counts from 0 again) or another band is off by
# at least the samples of the boot before, so one interval tells them apart.
PART_DATING_SAMPLES = 1.0
# Damaged stretches (RawDamage records, ~375 bytes each) a read of one .swraw keeps one by one in
# RawReader.damage and warns of one by one; beyond them it only counts (RawReader.damage_totals:
# stretches, bytes and samples lost, exact). A failing card's day (bench/raw_damage.py: 2000
# damaged chunks) is listed whole, while a crafted file with a damaged stretch every 60 bytes
# (1.46 million in 100 MB) kept them all: 605 MB peak RSS. 10 000 is at most ~4 MB a file.
MAX_LISTED_DAMAGE = 10_000
# A CSV whose first sample's t is at least this (s) has unix time for t (s since 1970-01-01 UTC:
# a phone app's or lab logger's export), and replay's table gives its times of day, as a .swraw's.
# 1e9 s is 2001-09-09T01:46:40Z, before any band, and 31.7 years as elapsed seconds, far past any
# recording's offset from its zero (an EEG marker, a part's start). --jsonl keeps t as it is.
UNIX_T_FROM_S = 1e9
# ... and less than this (s): 4102444800 s is 2100-01-01T00:00:00Z, past any recording a band
# makes. A larger t is no unix time the table could date (1e12 s is the year 33658, past the
# year 9999 Python's datetime holds: the table ended in a traceback); it keeps the elapsed clock.
UNIX_T_UNTIL_S = 4_102_444_800.0

"""Every detector threshold in one place, with its unit and the reason for it.

Shared by the band firmware (MicroPython) and the host (CPython). Integer
units only: durations in ms, angular rates in 0.1 deg/s (ddps), angles and
tilts in milli-radians (mrad; 1 mg of gravity-vector change ~ 1 mrad of
tilt), ratios in percent. Sample counts are derived from these at start-up
for the actual IMU rate, so the same numbers hold at 50 Hz and at 104 Hz.
Tune with recordings; change a value here and both twins follow.

Only what the band reads is here: each public name is a qstr the band interns
at boot (docs/firmware.md, "qstr"). The host's own thresholds (sleep/wake,
clusters) are in host/spasmwatch/analysis/consts.py.
"""

from swcore.compat import const

# --- signal front end -------------------------------------------------------
# Short mean of the accelerometer: 80 ms smooths sensor noise (~2-5 mg per
# sample) yet is short next to the 100-400 ms onset of a spasm.
SHORT_MS = const(80)
# Posture reference: mean of the 500 ms before onset. Long enough to average
# breathing motion down, short enough that slow drifts do not enter it.
REF_MS = const(500)
# Gap between the reference / pre-onset windows and the detected onset: the
# movement starts a little before the rate crosses the onset threshold.
GAP_MS = const(100)
# Pre-onset activity window: 1 s, a spasm interrupts rest or calm movement.
PRE_MS = const(1000)
# Gyro bias: mean of the last 8 *still* 1 s blocks. A turn or a roll has a
# net rotation that would bias an ordinary mean by degrees per second, and
# that error, integrated over a 2 s spasm, is a posture change of its own.
# MEMS bias drifts over minutes, so old still blocks are still good.
BIAS_BLOCK_MS = const(1000)
BIAS_BLOCKS = const(8)
# A block is still when the rate deviates from the block's first sample by
# at most 5 deg/s per axis on average (breathing passes, movement does not)
# and its mean is within 5 deg/s (sum over axes) of the current bias (a slow
# steady turn is smooth but not still). After 30 refused blocks the second
# test is waived, so a wrong first estimate cannot lock the bias out.
BIAS_ROUGH_DDPS = const(50)
BIAS_NEAR_DDPS = const(50)
BIAS_RESET_BLOCKS = const(30)
# Per-axis clamp of bias-corrected rate (ddps): 1600 deg/s, above anything
# a trunk does, keeps squares inside a MicroPython small int (no heap use).
RATE_CLAMP_DDPS = const(16000)
# The largest MicroPython small int on a 32-bit board (2^30 - 1): past it an int is a heap
# object and every operation on it allocates. Limits that keep sums and products small are
# divided from this literal, never from 1 << 30: that is a heap int there, and MicroPython
# before 1.24 keeps the result of heap-int arithmetic a heap int even when it fits (found on
# 1.22 and 1.23, 32-bit: the detector's angle clamp, (1 << 30) // kq, made a heap int at
# every sample of every movement; tests/firmware/test_old_micropython.py).
SMALL_INT_MAX = const(0x3FFFFFFF)
# Sample indexes are shifted down (``Detector.rebase``) once they reach 2^29:
# on a 32-bit board a MicroPython small int ends at 2^30 - 1, which a 100 Hz
# band passes after 124 days up, and from there every index operation on the
# per-sample path would allocate. The shift is a multiple of the ring lengths
# and nothing else changes, so events are those of an unshifted run.
INDEX_REBASE_AT = const(1 << 29)
# Posture deviation squared is clamped to this (mrad^2, ~3.2 rad); larger is
# not a spasm posture and products with percentages stay small ints.
DEV2_CLAMP = const(10000000)

# --- spasm detector -----------------------------------------------------------
# Onset: trunk angular rate above 10 deg/s. Breathing moves the chest by
# ~1 deg at 0.5-1 Hz (peak rate ~3-6 deg/s); even a subtle spasm (2-5 deg
# in 0.1-0.4 s) peaks well above 10 deg/s.
ONSET_DDPS = const(100)
# ... and, in a busy spell, above 4x the RMS rate of the second before (the
# rate^2 above 2^ONSET_PRE_SHIFT = 16x the mean pre-onset energy): bouncing,
# rocking, car rides or crying keep the rate above 10 deg/s for seconds, so
# a spasm then had no rising edge of its own, or fell inside a candidate the
# background had started. Measured with both simulators (shift 2/3/4/5):
# 4 found the most clusters (held-out seeds 11-13: 29 -> 33 of 45 with a
# gyro, 8 -> 11 of 18 without; the second simulator 2 -> 4 of 10) with the
# fewest false ones; 5 loses spasms that calm-before would have passed.
ONSET_PRE_SHIFT = const(4)
# Rise: the fast phase must settle (rate below SETTLE_PCT of its peak)
# within 600 ms (including a counter-movement of the legs or arms); spasm
# onsets take 0.1-0.4 s, continuous movement does not settle.
RISE_MAX_MS = const(600)
SETTLE_PCT = const(35)
# ... and stay settled for 80 ms: the posture after the fast phase is what
# counts (the peak of a bump that falls straight back is no posture).
SETTLE_MS = const(80)
# Minimum held posture change after the rise: 2 deg (35 mrad), twice the
# chest's breathing swing. Below this it is a jolt (hiccup, bump, twitch),
# not a contraction into a posture.
DEV_MIN_MRAD = const(35)
# Without a gyro the tilt also carries breathing (~1 deg) and the lag of the
# short mean, so the bar is 3 deg.
DEV_MIN_ACC_MRAD = const(52)
# Weak tier: a held posture change of 1-2 deg (1.7-3 deg without a gyro)
# that passes every other test is still reported, as a weak event (confidence
# below STRONG_CONFIDENCE). Alone it is too common to mean anything (breathing
# sighs, small fidgets); the host counts it only next to full spasms of the
# same chain (the host's CLUSTER_MIN_STRONG). It catches the weaker spasms of a
# waxing and waning cluster, often the first one, which would otherwise delay
# the alarm by a whole interval. Below 1 deg the posture is in the breathing swing.
DEV_WEAK_MRAD = const(17)
DEV_WEAK_ACC_MRAD = const(52)
# Confidence (0-100) of a full spasm is at least this; weak events are 1-49.
STRONG_CONFIDENCE = const(50)
# Without a gyro an event is a full spasm only at confidence >= 75; below, it
# is a weak event (49). Confidence is 50, plus up to 25 for the tilt over its
# 3 deg minimum, plus up to 25 for the hold over its 250 ms minimum: 75 asks
# for about half of both (e.g. 5.4 deg held 0.9 s). The accelerometer's
# "rate" fires on the jolt of a kick, and kicking bouts then make
# held-looking 3-5 deg tilts: on the second simulator (altsim seeds 1-10)
# 43 false clusters in 78 h, 86% of its events not spasms. Chosen on altsim
# 1-10 and the project simulator's seeds 1-6 (accel-only): 72 / 75 / 78 keep
# 9 / 8 / 6 of 17 and 17 / 17 / 16 of 36 clusters (from 9 and 18), and
# 22 / 13 / 6 of altsim's 43 false ones (the project simulator's one stays).
# Unused with a gyro, whose rate needs a turn.
ACC_STRONG_CONFIDENCE = const(75)
# Quasi-static: without a gyro, tilt counts only where |accel| is within
# 50 mg of the pre-onset gravity (a held posture has no linear acceleration).
QS_MG = const(50)
# Calm before onset: RMS pre-onset rate below PRE_PCT of the event's peak.
# A spasm breaks out of rest or calm movement; rhythmic patting, rocking,
# bouncing and restless fidgeting are as busy before as during.
PRE_PCT = const(20)
# Tonic phase: posture held (deviation above RET_START_PCT of its peak: the
# tonic level is often well below the phasic peak) until at least 250 ms
# after onset and for at most 2.5 s after settling. Spasms hold 0.3-1.5 s;
# twitches and hiccups do not hold; reflux arching and rolling over hold far
# longer (and head lifting in tummy time usually does).
HOLD_MIN_MS = const(250)
# ... and at least 100 ms of it after the fast phase has settled (ms): a
# hiccup or a twitch is a smooth bump that starts to fall as soon as it
# peaks. Not 150 ms: the lagging counter-bend of a mixed spasm (and the quick
# release of a brief flexor) often lets the posture go 100-150 ms after
# settling; on simulated seeds 3-6 / 11-13 / 1-2 the shorter bar found 5/2/1
# more accel-only clusters and no more false ones (80 ms, i.e. no bar beyond
# SETTLE_MS, added a false 6-axis cluster on seeds 11-13).
HELD_MIN_MS = const(100)
HOLD_MAX_MS = const(2500)
RET_START_PCT = const(50)
# Return: deviation back below RET_END_PCT of its peak within 2 s; a change
# of posture that stays (rolling over, being picked up) never returns. Half
# way is enough: breathing and ongoing small movements rarely let a trunk
# come back exactly where it started.
RET_END_PCT = const(50)
# ... or below an absolute floor: breathing (~0.5-1 deg) and the residual
# gyro bias (~0.5 deg/s over 2 s) keep a small posture change from ever
# looking fully released. Release starts below 1.3 deg, ends below 0.9 deg.
RET_START_FLOOR_MRAD = const(23)
RET_END_FLOOR_MRAD = const(15)
RET_MAX_MS = const(2000)
# Calm after: for 1 s after the release the RMS rate stays below 30% of the
# spasm's peak before the event is confirmed. A spasm is followed by a pause
# (the next one comes 5-10 s later); a kick, a pat or a bounce that happened
# to look held is followed by more of the same. Measured on simulated
# recordings from two independently written simulators: 97-100% of detected
# spasms pass, and 50-85% of the events in kicking bouts are refused. It
# delays each event (and so the alarm) by POST_MS. At most PRE_MS + GAP_MS,
# so its energy sum stays a small int like the pre-onset one.
POST_MS = const(1000)
POST_PCT = const(30)
# Without a gyro the rate energy is the change of the accel mean, which kicks
# and pats (linear acceleration) fill as much as rotation does: 20%. Over
# both simulators' accel-only recordings (seeds 1-2, 3-6, 11-13; altsim 1-4)
# false clusters 41 -> 20 for 35 -> 31 clusters found (25%: 28 and 34).
POST_ACC_PCT = const(20)

# --- epoch features (sleep/wake, wear) ------------------------------------------
# Epoch length: 10 s gives wake onsets to well within the 5 min target and
# is short enough to notice a band taken off within a couple of minutes.
EPOCH_MS = const(10000)
# A sample is "active" above 5 deg/s: above breathing's typical rate, below
# any deliberate movement.
ACTIVE_DDPS = const(50)
# Without a gyro the rate is the change of an 80 ms accel mean: it amplifies
# sensor noise and adds the chest's breathing acceleration, so a sleeping
# baby's rest level varies from band to band (0.8-2 mg of noise on the
# project simulator, 2.5-8 mg with ~10 mg of breathing on the second one,
# where 5 deg/s made 16-100% of sleep epochs active: wakes 10/22, 9 false
# per 24 h). The bar is 8x the rest level's rate energy (2.8x its RMS), the
# rest level being the quietest recent epoch's mean energy, held between 5
# and 10 deg/s. A gyro reads rotation directly (noise ~0.1 deg/s): no need.
ACTIVE_ACC_MAX_DDPS = const(100)
ACTIVE_ACC_REST_X10 = const(80)
# The rest level follows a quieter epoch at once and rises by 1/256 per
# epoch otherwise (doubling in ~30 min), so hours awake do not lift the bar
# to the baby's own movement. Before the first epoch it stands at the cap;
# off-body epochs do not count (a table is quieter than a sleeping baby).
ACTIVE_REST_RISE_SHIFT = const(8)
# Breathing blocks: 200 ms means (5 Hz), well above the 0.5-1 Hz breathing
# of an infant, averaging white sensor noise down by the block length.
BREATH_BLOCK_MS = const(200)
# Per-sample difference clamp (mg, ddps) for the white-noise estimate: big
# movements must not inflate the noise floor.
NOISE_DIFF_CLAMP = const(100)
# Off-body evidence per epoch: at most 1% active samples and block-mean
# variance under 4x what white sensor noise alone gives. A worn band always
# sees breathing (infant chest ~1 deg at 0.5-1 Hz, far above gyro noise).
STILL_ACTIVE_PCT = const(1)
BREATH_RATIO_MIN_PCT = const(400)
# Without a gyro, 1.5x: a noisy accelerometer (6-8 mg) buries breathing down
# to 1.1-2.7x on a sleeping baby, while a band on a table gives 0.6-1.0x.
# Until the adaptive bar above, sensor noise kept such epochs "active", so
# the 4x test was never reached (and a band off the body never found).
BREATH_ACC_MIN_PCT = const(150)
# Wear state: 2 min of off-body epochs before "not worn" (deep sleep can
# look still for a while; a family should hear within minutes); 20 s of
# movement or breathing to count as worn again.
NOT_WORN_AFTER_MS = const(120000)
WORN_AFTER_MS = const(20000)

# --- cluster counter: likeness to the cluster's own spasms (swcore.matcher) ------
# The spasms of one cluster are alike (the clinical "stereotyped" spasm): the
# same movement about nearly the same axis. Inside a cluster most of the
# spasms the detector lets go are too little above a busy background or not
# calm before, yet keep that shape. A rising edge of the rate near a full
# spasm whose 3-axis rate matches the shape of one of the last full spasms
# is counted as a spasm of its cluster; alone it is no evidence of a
# cluster (a kicking bout repeats one kick as faithfully), so it counts
# towards an alarm only beside an alike pair (MATCH_PAIR_PCT, below).
# Chosen offline on altsim 1-4 and 7-13 and the project simulator's seeds
# 1-2 and 11-13 (docs/detector-tuning.md, "Matching a cluster's own spasms"):
# the share of a found cluster's spasms counted 0.55 -> 0.68 and 0.76 ->
# 0.86, with 4 false additions in 874 spasms.
# The rate at ~25 Hz (the IMU rate divided by a whole k): a 1-2 s shape
# needs no more, and a test costs 1/16 of what it would at 100 Hz.
MATCH_HZ = const(25)
# Candidates: rising edges of the rate over 5 deg/s and over 2^1 = 2x the
# mean energy of the second before (1.4x its RMS): low enough for a spasm in
# a bounced or crying baby, where the onset's 4x is not reached.
MATCH_EDGE_DDPS = const(50)
MATCH_EDGE_SHIFT = const(1)
# Shapes of the last 3 full spasms: a cluster's spasms vary, and the latest
# is not always the likest (1 template: 0.63 / 0.81 instead of 0.68 / 0.86).
MATCH_TEMPLATES = const(3)
# A shape runs from 0.12 s before the onset to 0.2 s after the release, at
# most 2.5 s of the spasm itself (the tonic phase of a long one adds little).
MATCH_PRE_MS = const(120)
MATCH_TAIL_MS = const(200)
MATCH_MAX_MS = const(2500)
# The edge and the shape's onset may be 0.2 s apart (the edge's bar is lower).
MATCH_LAG_MS = const(200)
# Likeness: cosine similarity of the two 3-axis rate series at least 0.75
# (0.7 added false matches, 0.8 halved the gain), with an energy within
# 0.09-9x the shape's (0.3-3x in RMS: a subtle and a full spasm of one cluster).
MATCH_SIM_PCT = const(75)
MATCH_ENERGY_MIN_PCT = const(9)
MATCH_ENERGY_MAX_PCT = const(900)
# Calm around it: the second before and the second after under 30% of its
# peak RMS, as the detector's calm-after (20% kept 0.63 / 0.83).
MATCH_CALM_MS = const(1000)
MATCH_CALM_PCT = const(30)
# Edges from 30 s before a full spasm's onset to 45 s after it are tested
# against it: the spasms before a cluster's first full one, and the rhythm
# rule's span after it (forward only: 0.63 / 0.82).
MATCH_BACK_MS = const(30000)
MATCH_AHEAD_MS = const(45000)
# An edge within 1 s of a kept shape's spasm is that spasm.
MATCH_SELF_MS = const(1000)
# Bounded buffers: edges waiting for a shape (altsim: at most 166 edges in
# any 37 s; the oldest goes first), matches queued by one call.
MATCH_WAIT_MAX = const(256)
MATCH_OUT_MAX = const(16)
# An alike pair: a full spasm whose shape has a cosine of at least 0.8 (best
# of the same +-0.2 s lags) with the kept shape of a full spasm at most 40 s
# before it (the chain's reach, the host's CLUSTER_MAX_GAP_MS) is flagged EF_ALIKE. In a
# chain with such a pair, matches count towards the alarm as weak events do
# (one may be the third spasm): the detector's missed first or second spasm
# no longer costs an interval. Without a pair a kicking bout's repeated kick,
# matched, would raise it: matches towards every alarm took false clusters
# 7 -> 15 on altsim 1-4 and 7-13 (370 h) and 4 -> 17 on the project
# simulator's seeds 1-2, 11-13 and 14-17 (351 h). With the pair: clusters
# 39 -> 42 of 70 and 71 -> 72 of 90, false clusters 7 -> 7 and 4 -> 7,
# alarms on time 0.46 -> 0.48 and 0.59 -> 0.61; on the held-back altsim
# 14-20 (240 h) 25 -> 27 of 46, false 7 -> 7, median alarm delay 3.9 -> 2.3 s
# (docs/detector-tuning.md, "The alike pair"). A cosine of 0.7 or 0.9 (probed
# with a 15 s reach) found 41 and 40 of altsim's 70.
MATCH_PAIR_PCT = const(80)
MATCH_PAIR_MS = const(40000)

"""altsim: a second, independent infant-movement simulator (held-out check).

Written without reading spasmwatch's own simulator (host/spasmwatch/sim,
except the truth-file layout in sim/truth.py), the detector
(firmware/swcore, analysis/twin.py) or their docs, so that scores on these
recordings are not scores on the data the detector was tuned to. It models
the published clinical descriptions in its own way. Run from the repo root:

    .venv/bin/python -m tools.altsim OUTDIR --seed N [--hours H] [--kinds ...] [--jobs J]
    .venv/bin/spasmwatch evaluate -v OUTDIR/*.csv

Model (body frame: x to the head, y left, z out of the chest; world z up)
---------------------------------------------------------------------------
orientation = rock (world) * heading (yaw) * posture * trunk rotation (body)
accel = R^T (world accel + heading-frame accel + 1 g up) + body-frame accel
        + lever-arm terms (alpha x r + w x (w x r)), through a soft-mount
        resonance (loose band), then into a randomly mounted sensor frame
gyro  = body angular rate (from the orientation, by finite differences)

Sensor: mounting uniformly random (half) or band-like (chip facing out or
in, any turn about the chest normal, tilt ~15 deg); accel noise 2-8 mg RMS,
bias up to +-40 mg with slow drift, scale +-1 %, cross-axis 1 %, ranges
+-2/4/8 g at 1/16384, 1/8192, 1/4096 g; gyro noise 0.05-0.3 deg/s, bias up
to +-3 deg/s plus warm-up settling and slow drift, ranges 250-2000 deg/s at
1/131 ... 1/16.4 deg/s (typical MEMS IMU datasheets: MPU-6050, LSM6DS3,
BMI160). Rates 50, 52, 100, 104 Hz; about a quarter of files accel-only.

Assumptions and sources (from memory; magnitudes at the sensor are my own
estimates unless a source is named)
--------------------------------------------------------------------------
Spasms (Kellaway et al., Ann Neurol 1979; Fusco & Vigevano, Epilepsia 1993;
Lux & Osborne, Epilepsia 2004; Pellock et al., Epilepsia 2010; ILAE 2017
definition of "epileptic spasm"): sudden flexion, extension or mixed
flexion-extension of neck, trunk and proximal limbs; a phasic contraction
(< 0.5 s) then a tonic phase, about 1-2 s in all; mixed most common, then
flexor, then extensor; asymmetric spasms with lesions; subtle forms (head
nod, shoulder shrug, abdominal tensing). In clusters of a few to dozens,
every 5-30 s, mostly on or soon after waking, rarely in sleep; intensity
waxes and wanes, intervals lengthen towards the end; infants often cry
after spasms. Here: rise 0.1-0.4 s to 3-30 deg trunk rotation (subtle 1-4
deg) about the body y axis (flexion = head towards chest), with roll/yaw
components when asymmetric; tonic hold 0.3-1.5 s, decaying, with 6-12 Hz
tremor; return 0.2-1 s; onset jolt 0.1-0.4 g (subtle 0.01-0.05 g); style
fixed per cluster, amplitude per spasm by a waxing/waning envelope; 3-30
spasms (median 9); base interval 5-10 s (some 3-5 or 10-20 s), jitter,
slowing trend, occasional pauses; ~25 % of clusters subtle; carers' arms
and seat straps damp the excursion.
Breathing (Fleming et al., Lancet 2011): 26-48 breaths/min in quiet sleep
(falling with age), ~12 % faster and irregular in active sleep, ~30 %
faster awake; 0.3-1.5 deg chest-wall tilt, 1-4 mm displacement; sighs and
3-10 s pauses in sleep. Heartbeat not modelled.
Sleep (Galland et al., Sleep Med Rev 2012): nights 8-12 h with 1-3 wakings
(feeds), naps 0.5-2 h; active/quiet sleep alternate every 10-40 min; active
sleep has twitches (brief < 0.3 s jerks, Blumberg's and Sokoloff's infant
twitching work); gross posture shifts a few per hour.
Confounders (the design's list of non-spasms): Moro reflex until ~5 months
then startle (extension jolt, return within ~1 s, no hold); hiccups (bouts
of 5-15 min, one every 2-4 s, brief diaphragm jerk; Kahrilas & Shi, Gut
1997); benign sleep myoclonus (bursts of 1-5 Hz jerks for seconds,
recurring for minutes, mostly < 3-4 months; Maurer et al., Pediatrics
2010); Sandifer-like reflux arching after feeds (extension with head turn,
held 5-30 s); kicking (kick cycles 0.3-0.8 s in bouts; Thelen & Fisher
1983); awake general movements (Prechtl); crying (0.5-2 s expiratory bursts
with trunk tensing); feeding (sucking bursts at ~1 Hz with pauses; Wolff,
Pediatrics 1968); patting/burping 1-3 Hz; bouncing 1-2.2 Hz, 0.1-0.4 g;
rocking 0.3-1 Hz, 5-15 deg; carried walking (steps 1.6-2.2 Hz, turns);
car (infant seat reclined ~45 deg, road vibration 0.01-0.05 g in 3-18 Hz,
cf. ISO 2631-1 seat levels; bumps; braking/turns limited to ordinary
0.1-0.35 g); stroller (pavement vibration, curbs); nappy change (legs
lifted, trunk tilted for seconds); rolling over (stays); handling
(picking up/putting down); band taken off onto a table (no breathing).
"""

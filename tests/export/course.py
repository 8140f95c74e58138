"""A simulated two-week course written straight into a real store (for export/report tests).

Day 0 starts 2024-03-04 00:00 UTC. The baby sleeps 20:00-06:30 and naps
13:00-14:30 (activity epochs say so); clusters of spasms come a few minutes
after waking, 4 a day in the first week; vigabatrin starts on day 7 at 08:00
and the clusters fade (3, 2, 2, 1, 1, 0, 0). One cluster is labelled a false
alarm, a video note and a medication note are written, and the dose goes up
on day 10.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from spasmwatch.store import Store
from swcore import protocol as P

DEVICE = "band-1"
DAY0 = datetime(2024, 3, 4, tzinfo=timezone.utc).timestamp()
DAY_S = 86_400.0
N_DAYS = 14
EPOCH_S = 10.0
BOOT = 1
# Clusters per day: fading after vigabatrin starts on day 7.
CLUSTERS_PER_DAY = (4, 4, 4, 4, 4, 4, 4, 3, 2, 2, 1, 1, 0, 0)
# Minutes after a wake onset when a cluster starts, by slot.
SLOTS = ((6.5 * 3600, 4.0), (14.5 * 3600, 6.0), (6.5 * 3600, 95.0), (14.5 * 3600, 150.0))
SPASMS_PER_CLUSTER = 8
SPASM_GAP_S = 7.0
TREATMENT_T = DAY0 + 7 * DAY_S + 8 * 3600
DOSE_UP_T = DAY0 + 10 * DAY_S + 9 * 3600


@dataclass
class Expected:
    spasms_per_day: list[int] = field(default_factory=lambda: [0] * N_DAYS)
    clusters_per_day: list[int] = field(default_factory=lambda: [0] * N_DAYS)
    cluster_starts: list[float] = field(default_factory=list)
    spasm_times: list[float] = field(default_factory=list)
    matched_times: list[float] = field(default_factory=list)
    alike_times: list[float] = field(default_factory=list)
    false_alarm_cluster_start: float = 0.0


def asleep(t: float) -> bool:
    h = (t - DAY0) % DAY_S / 3600
    return h >= 20 or h < 6.5 or 13 <= h < 14.5


def _activity(device: str) -> list[dict[str, int]]:
    rows = []
    n = int(N_DAYS * DAY_S / EPOCH_S)
    for k in range(n):
        t = DAY0 + k * EPOCH_S
        quiet = asleep(t) or k % 9 == 0
        end_ms = int((k + 1) * EPOCH_S * 1000)
        # awake: 400 of an epoch's 520 samples (52 Hz) active, 77%: moving, as a wake's window needs one (WAKE_MOVE_PCT)
        rows.append({"boot": BOOT, "t_ms": end_ms, "activity": 3 if quiet else 400, "breath": 40, "off_body": 0, "worn": 1})
    del device
    return rows


def _spasm(seq: int, t: float, matched: bool = False, alike: bool = False) -> dict[str, int]:
    ms = int(round((t - DAY0) * 1000))
    if matched:  # a cluster-counter match: its own confidence tier, no posture change
        return {
            "boot": BOOT, "seq": seq, "onset_ms": ms, "duration_ms": 1000, "peak_rate_mrads": 900,
            "peak_angle_mrad": 0, "confidence": 30, "flags": P.EF_TIME_SYNCED | P.EF_MATCHED,
        }
    return {
        "boot": BOOT, "seq": seq, "onset_ms": ms, "duration_ms": 1200, "peak_rate_mrads": 2100,
        "peak_angle_mrad": 350, "confidence": 80, "flags": P.EF_TIME_SYNCED | (P.EF_ALIKE if alike else 0),
    }


def build(path: Path) -> Expected:
    exp = Expected()
    with Store(path) as store:
        store.add_sync(DEVICE, BOOT, 0, DAY0)
        store.add_activity(DEVICE, _activity(DEVICE), received_wall_s=DAY0)
        seq = 0
        for day, n_clusters in enumerate(CLUSTERS_PER_DAY):
            for slot in range(n_clusters):
                wake_s, after_min = SLOTS[slot]
                start = DAY0 + day * DAY_S + wake_s + after_min * 60
                times = [start + i * SPASM_GAP_S for i in range(SPASMS_PER_CLUSTER)]
                # The first cluster of each day has a spasm the detector let go, counted by
                # the band's cluster counter: in the cluster's count, so in the day's spasms;
                # its second spasm is shaped like the first (the alike pair that lets it count).
                matched = [start + 2.5 * SPASM_GAP_S] if slot == 0 else []
                alike = times[1:2] if slot == 0 else []
                rows = []
                for t in times:
                    seq += 1
                    rows.append(_spasm(seq, t, alike=t in alike))
                for t in matched:
                    seq += 1
                    rows.append(_spasm(seq, t, matched=True))
                store.add_events(DEVICE, rows, received_wall_s=start)
                ids = [i for i in store.event_ids_at(DEVICE, times + matched) if i is not None]
                cid = store.upsert_cluster(
                    DEVICE, f"c{day}-{slot}", start, times[-1] + 1.2, len(times) + len(matched), times[2] + 1.5,
                    after_min * 60, True, ids, wall_s=start,
                )
                if day == 2 and slot == 3:  # its events are no spasms: the caregiver saw them
                    store.label_cluster(cid, "false_alarm", "parent", start + 600)
                    exp.false_alarm_cluster_start = start
                else:
                    if day < 7:
                        store.label_cluster(cid, "confirmed", "parent", start + 600)
                    exp.spasms_per_day[day] += len(times) + len(matched)
                exp.clusters_per_day[day] += 1
                exp.cluster_starts.append(start)
                exp.spasm_times.extend(times + matched)
                exp.matched_times.extend(matched)
                exp.alike_times.extend(alike)
            # one isolated spasm each day at 11:00 (a single event, not a cluster)
            seq += 1
            t = DAY0 + day * DAY_S + 11 * 3600
            store.add_events(DEVICE, [_spasm(seq, t)], received_wall_s=t)
            exp.spasms_per_day[day] += 1
            exp.spasm_times.append(t)
        store.add_note(DAY0 + 1 * DAY_S + 6.6 * 3600, "video", "video taken of the morning cluster", DEVICE, "parent")
        store.add_note(TREATMENT_T + 60, "medication", "first vigabatrin dose given", DEVICE, "parent")
        store.add_treatment(TREATMENT_T, "Sabril", "start", 50.0, "mg/kg/day", None, "parent")
        store.add_treatment(DOSE_UP_T, "vigabatrin", "change", 100.0, "mg/kg/day", None, "parent")
    exp.spasm_times.sort()
    return exp

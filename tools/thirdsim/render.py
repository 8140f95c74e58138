"""From the plan to what the band's IMU reports, chunk by chunk.

Body channels -> trunk orientation and sensor position -> specific force and
angular rate at the pod -> strap/soft-tissue resonance and the IMU's own
low-pass -> gains, cross-axis, temperature-dependent bias, white noise,
range clipping, quantisation. Each chunk is rendered with a margin of
history so filters and derivatives carry over without seams.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from tools.thirdsim import rot
from tools.thirdsim.baby import Sensor
from tools.thirdsim.prims import (BREATH, BZ, LX, LY, LZ, NCH, NX, NY, NZ, PITCH, ROLL, SLIP, WX, WY, WZ, YAW, BX,
                                  G, BandNoise, sstep)
from tools.thirdsim.world import Plan

Arr = np.ndarray
GRID_HZ = 10.0  # slow physiological processes (breathing, heart, skin temperature) are planned on this grid
CHUNK_S = 300.0
PAD_BEFORE_S = 3.0
PAD_AFTER_S = 0.5


def _track(t: Arr, kt: Arr, kd: Arr, kv: Arr) -> Arr:
    """Piecewise-smooth track through knots (value ``kv[k]`` reached ``kd[k]`` s after ``kt[k]``)."""
    i = np.searchsorted(kt, t, side="right") - 1
    i = np.clip(i, 0, len(kt) - 1)
    prev = kv[np.maximum(i - 1, 0)]
    u = sstep((t - kt[i]) / kd[i])
    if kv.ndim == 2:
        u = u[:, None]
    return prev + (kv[i] - prev) * u


def _smooth(x: Arr, n: int) -> Arr:
    """Moving average over ``n`` grid points (same length)."""
    if n <= 1:
        return x
    c = np.cumsum(np.concatenate([np.full(n, x[0]), x, np.full(n, x[-1])]))
    m = (c[n:] - c[:-n]) / n
    return m[n // 2: n // 2 + len(x)]


class Physio:
    """Breathing, heartbeat and skin temperature on a coarse grid, integrated over the whole recording."""

    def __init__(self, plan: Plan, rng: np.random.Generator) -> None:
        b = plan.baby
        n = int(np.ceil((plan.duration_s + 20) * GRID_HZ)) + 1
        self.t0 = -10.0
        tg = self.t0 + np.arange(n) / GRID_HZ
        code = np.full(n, 2)  # 0 quiet, 1 active, 2 wake
        for s in plan.stages:
            i0, i1 = np.searchsorted(tg, [s.start, s.end])
            code[i0:i1] = {"quiet": 0, "active": 1, "wake": 2}[s.state]
        f_mult = np.array([1.0, 1.15, 1.3])[code]
        irr = np.array([0.04, 0.15, 0.18])[code]
        a_mult = np.array([1.0, 0.75, 1.15])[code]
        a_irr = np.array([0.08, 0.3, 0.4])[code]
        sl = int(20 * GRID_HZ)
        f_mult, irr, a_mult, a_irr = (_smooth(x.astype(float), sl) for x in (f_mult, irr, a_mult, a_irr))
        nz1, nz2 = BandNoise(rng, 0.01, 0.3, 10)(tg), BandNoise(rng, 0.02, 0.5, 10)(tg)
        f = b.breath_hz_quiet * f_mult * (1 + irr * nz1)
        amp = a_mult * (1 + a_irr * np.tanh(nz2))
        # sighs in quiet sleep (every few minutes) and short pauses in active sleep
        for kind, rate, mult_a, mult_f, width in (("quiet", 1 / 200.0, 2.2, 0.7, 4.0), ("active", 1 / 500.0, -0.85, -0.85, 6.0)):
            for s in plan.stages:
                if s.state != kind:
                    continue
                for tc in rng.uniform(s.start, s.end, rng.poisson(rate * (s.end - s.start))):
                    i0, i1 = np.searchsorted(tg, [tc, tc + width * float(rng.uniform(0.7, 1.5))])
                    amp[i0:i1] *= 1 + mult_a
                    f[i0:i1] *= 1 + mult_f
        f = np.clip(f, 0.05, 2.0)
        self.tg = tg
        self.bphase = 2 * np.pi * np.cumsum(f) / GRID_HZ
        self.bamp = np.clip(amp, 0.0, 4.0)
        hf = b.heart_hz * np.array([1.0, 1.06, 1.15])[code] * (1 + 0.03 * BandNoise(rng, 0.01, 0.2, 8)(tg))
        self.hphase = 2 * np.pi * np.cumsum(_smooth(hf, sl)) / GRID_HZ
        self.bcg = float(rng.uniform(0.006, 0.02))  # m/s^2: the heart's kick felt at the chest (ballistocardiogram)
        # skin temperature under the pod: ~34 C worn, falling to room temperature off the body
        worn = np.ones(n)
        for nw in plan.not_worn:
            i0, i1 = np.searchsorted(tg, [nw.start, nw.end])
            worn[i0:i1] = 0
        room = float(rng.uniform(19, 25))
        target = np.where(worn > 0, float(rng.uniform(32.5, 35)), room)
        k = 1.0 / (GRID_HZ * float(rng.uniform(240, 600)))
        temp = np.empty(n)
        x = target[0]
        for i in range(n):  # first-order lag (pod warming / cooling)
            x += k * (target[i] - x)
            temp[i] = x
        self.temp = temp

    def at(self, t: Arr) -> tuple[Arr, Arr, Arr]:
        """(breath waveform x amplitude, heart kick waveform, temperature C) at times ``t``."""
        ph = np.interp(t, self.tg, self.bphase)
        a = np.interp(t, self.tg, self.bamp)
        breath = a * (0.5 - 0.5 * np.cos(ph) + 0.12 * np.sin(2 * ph))
        hp = np.interp(t, self.tg, self.hphase)
        heart = np.sin(hp) + 0.6 * np.sin(2 * hp + 0.7) + 0.3 * np.sin(3 * hp + 1.9)
        return breath, heart, np.interp(t, self.tg, self.temp)


def _impulse(fs: float, h_of_s: "np.ufunc | object", seconds: float = 1.5) -> Arr:
    nh = 1 << int(np.ceil(np.log2(4 * fs)))
    f = np.fft.rfftfreq(nh, 1 / fs)
    s = 2j * np.pi * f
    h = np.fft.irfft(h_of_s(s), nh)[: int(seconds * fs)]  # type: ignore[operator]
    return h / h.sum()


def _fftconv(x: Arr, h: Arr) -> Arr:
    """Causal filter of each column of ``x`` (n, k) by ``h``, first n outputs."""
    n = len(x)
    nfft = 1 << int(np.ceil(np.log2(n + len(h))))
    return np.fft.irfft(np.fft.rfft(x, nfft, axis=0) * np.fft.rfft(h, nfft)[:, None], nfft, axis=0)[:n]


class Renderer:
    def __init__(self, plan: Plan, sensor: Sensor, seed: int) -> None:
        self.plan = plan
        self.sensor = sensor
        self.fs = sensor.rate_hz
        self.seed = seed
        self.n_samples = int(round(plan.duration_s * self.fs))
        self.physio = Physio(plan, np.random.default_rng([seed, 505]))
        ev = plan.events
        self.ev_start = np.array([e.start for e in ev])
        self.ev_end = np.array([e.end for e in ev])
        m = plan.mount
        self.pos = m.pos_m
        nrm = np.array([0.0, m.pos_m[1], m.pos_m[2]])
        self.normal = nrm / np.linalg.norm(nrm)
        self.kappa = plan.baby.head_ratio
        w0 = 2 * np.pi * m.strap_hz
        z = m.strap_zeta
        wc = 2 * np.pi * sensor.bw_frac * self.fs
        self.h_strap = _impulse(self.fs, lambda s: (2 * z * w0 * s + w0 * w0) / (s * s + 2 * z * w0 * s + w0 * w0))
        self.h_aa = _impulse(self.fs, lambda s: wc * wc / (s * s + np.sqrt(2) * wc * s + wc * wc))
        self.h_acc = np.convolve(self.h_strap, self.h_aa)[: len(self.h_aa)]
        self.h_acc /= self.h_acc.sum()
        # not-worn handling: deterministic random wobble per interval
        hr = np.random.default_rng([seed, 606])
        self.nw_noise = [(BandNoise(hr, 0.2, 3.0, 10), BandNoise(hr, 0.2, 3.0, 10), BandNoise(hr, 0.2, 3.0, 10),
                          BandNoise(hr, 0.3, 5.0, 10), BandNoise(hr, 0.3, 5.0, 10), BandNoise(hr, 0.3, 5.0, 10))
                         for _ in plan.not_worn]
        self._body_r: dict[float, Arr] = {}

    # -- the body ---------------------------------------------------------------------------------
    def channels(self, t: Arr) -> Arr:
        p = self.plan
        ch = np.zeros((NCH, len(t)))
        ch[[YAW, PITCH, ROLL]] = _track(t, p.knots_t, p.knots_d, p.knots_v).T
        ch[SLIP] = _track(t, p.slip_t, p.slip_d, p.slip_v)
        idx = np.nonzero((self.ev_start < t[-1]) & (self.ev_end > t[0]))[0]
        for k in idx:
            e = p.events[k]
            i0, i1 = np.searchsorted(t, [e.start - 0.5, e.end + 0.5])
            if i1 > i0:
                e.render(t[i0:i1], ch[:, i0:i1])
        breath, heart, _ = self.physio.at(t)
        ch[BREATH] += p.breath_gain * breath
        ch[LY] += p.breath_tilt * ch[BREATH]
        ch[BZ] += self.physio.bcg * heart
        return ch

    def trunk(self, ch: Arr) -> tuple[Arr, Arr]:
        r_pel = rot.euler_zyx(ch[YAW], ch[PITCH], ch[ROLL])
        lum = np.stack([ch[LX], ch[LY], ch[LZ]], -1) - self.kappa * np.stack([ch[NX], ch[NY], ch[NZ]], -1)
        return r_pel, r_pel @ rot.expmap(lum)

    def sensor_r(self, ch: Arr, r_tr: Arr) -> Arr:
        return r_tr @ self.plan.mount.r_mount @ rot.rz(ch[SLIP])

    def body_r_at(self, t: float) -> Arr:
        if t not in self._body_r:
            tt = np.array([t - 0.01, t, t + 0.01])
            ch = self.channels(tt)
            _, r_tr = self.trunk(ch)
            self._body_r[t] = self.sensor_r(ch, r_tr)[1]
        return self._body_r[t]

    def worn(self, t: Arr) -> tuple[Arr, Arr]:
        """(sensor orientation (n,3,3), specific force in the world (n,3) m/s^2) on the body."""
        ch = self.channels(t)
        r_pel, r_tr = self.trunk(ch)
        pos = self.pos[None, :] + self.normal[None, :] * ch[BREATH][:, None]
        p_w = np.einsum("nij,nj->ni", r_tr, pos)
        a_lever = np.gradient(np.gradient(p_w, axis=0), axis=0) * self.fs ** 2
        b = np.stack([ch[BX], ch[BX + 1], ch[BX + 2]], -1)
        acc = np.stack([ch[WX], ch[WY], ch[WZ]], -1) + np.einsum("nij,nj->ni", r_pel, b) + a_lever
        acc[:, 2] += G
        return self.sensor_r(ch, r_tr), acc

    def not_worn(self, t: Arr, r: Arr, f: Arr) -> None:
        """Overwrite the samples where the band is off the baby: handled, then still on a surface."""
        for k, nw in enumerate(self.plan.not_worn):
            i0, i1 = np.searchsorted(t, [nw.start, nw.end])
            if i1 <= i0:
                continue
            tt = t[i0:i1]
            ra, rb = self.body_r_at(nw.start), self.body_r_at(nw.end)
            lin = rot.logmap(ra.T @ nw.r_table)
            lout = rot.logmap(nw.r_table.T @ rb)
            u_in = sstep((tt - nw.start) / nw.handle_in_s)
            u_out = sstep((tt - (nw.end - nw.handle_out_s)) / nw.handle_out_s)
            rr = np.where((u_in < 1)[:, None, None], ra[None] @ rot.expmap(u_in[:, None] * lin[None]),
                          nw.r_table[None] @ rot.expmap(u_out[:, None] * lout[None]))
            env = np.sin(np.pi * u_in) ** 2 * (tt < nw.start + nw.handle_in_s) + \
                np.sin(np.pi * u_out) ** 2 * (tt > nw.end - nw.handle_out_s)
            nz = self.nw_noise[k]
            wob = env[:, None] * 0.35 * np.stack([nz[0](tt), nz[1](tt), nz[2](tt)], -1)
            r[i0:i1] = rr @ rot.expmap(wob)
            f[i0:i1] = env[:, None] * 1.5 * np.stack([nz[3](tt), nz[4](tt), nz[5](tt)], -1)
            f[i0:i1, 2] += G

    # -- the IMU ----------------------------------------------------------------------------------
    def chunks(self) -> Iterator[tuple[Arr, Arr, Arr | None]]:
        """(t, accel g (n,3), gyro deg/s (n,3) or None) per chunk, in order."""
        fs = self.fs
        sen = self.sensor
        step = int(round(CHUNK_S * fs))
        pb, pa = int(PAD_BEFORE_S * fs), max(2, int(PAD_AFTER_S * fs))
        acc_lsb = 2 * sen.acc_range_g / 2 ** sen.acc_bits
        gyr_lsb = 2 * sen.gyro_range_dps / 2 ** 16
        acc_sd = sen.acc_noise_ug_rthz * 1e-6 * np.sqrt(sen.bw_frac * fs * 1.11)
        gyr_sd = sen.gyro_noise_dps_rthz * np.sqrt(sen.bw_frac * fs * 1.11)
        for ci, s0 in enumerate(range(0, self.n_samples, step)):
            s1 = min(self.n_samples, s0 + step)
            t = np.arange(s0 - pb, s1 + pa) / fs
            r, f = self.worn(t)
            self.not_worn(t, r, f)
            a = np.einsum("nji,nj->ni", r, f) / G  # world -> sensor frame
            a = _fftconv(a, self.h_acc)[pb: pb + s1 - s0]
            _, _, temp = self.physio.at(t[pb: pb + s1 - s0])
            noise = np.random.default_rng([self.seed, 707, ci])
            dt = (temp - 25.0)[:, None]
            a = a @ sen.acc_gain.T + sen.acc_bias_g + dt * sen.acc_tc_g_per_c + noise.normal(0, acc_sd, a.shape)
            a = np.clip(np.round(a / acc_lsb) * acc_lsb, -sen.acc_range_g, sen.acc_range_g - acc_lsb)
            g = None
            if sen.has_gyro:
                w = np.degrees(rot.body_rate(r, fs))
                w = _fftconv(w, self.h_aa)[pb: pb + s1 - s0]
                w = w @ sen.gyro_gain.T + sen.gyro_bias_dps + dt * sen.gyro_tc_dps_per_c + noise.normal(0, gyr_sd, w.shape)
                g = np.clip(np.round(w / gyr_lsb) * gyr_lsb, -sen.gyro_range_dps, sen.gyro_range_dps - gyr_lsb)
            yield np.arange(s0, s1) / fs, a, g

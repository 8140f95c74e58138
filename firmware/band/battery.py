"""Battery voltage -> state of charge for a single LiPo cell.

The ADC adapter (board or simulator) gives the cell voltage in mV; this maps
it through a resting-voltage curve between the board's ``empty_mv`` and
``full_mv`` (board definition). Integer math only.
"""

from swcore.compat import const  # band/battery.py runs on CPython too (tests)

# Resting LiPo voltage (mV, for a 3300-4200 mV cell) at 0, 10, ... 100 % charge.
_CURVE_MV = const((3300, 3580, 3680, 3730, 3770, 3800, 3840, 3890, 3960, 4060, 4200))
# Below this the band stops sensing and writing flash so a brown-out cannot
# tear a log record; it keeps advertising its status while it can.
CRITICAL_PCT = 3
# Hysteresis: the low state ends only CLEAR_MARGIN_PCT over low_battery_pct (20 % by default): a
# discharging cell does not climb back that far, a charging one does.
CLEAR_MARGIN_PCT = 5
# Critical ends (sensing resumes) where LOW clears at the default low_battery_pct (band/app.py
# ``_check_battery``): 15 + 5 = 20 %, 3680 mV on the curve, 296 mV over 3 %: a charger's voltage.
# Not critical's own bar + CLEAR_MARGIN_PCT (8 %, 140 mV over 3 %): once sensing stops, a cell
# near empty can regain that much at rest (a load's drop is 50-150 mV, more near empty, on an aged
# or cold cell more still), and until 2026-12-06 a cell read at 2 % under load and 9 % at rest
# resumed, stopped 3 readings later, and so on every 40 s, writing the boot state to flash twice
# a cycle (tests/firmware/test_band_battery.py). Not the configured LOW's clear either: up to 55 %
# (low_battery_pct 5-50, a family's choice of warning), and a band charged to 30 % and put back on
# would not sense. (No name of its own: the band has one qstr left before its next pool, docs/firmware.md.)
# The cell is read at least this often (ms), whatever the status period (up to an hour).
READ_MS = 10000
# The band's charge is the best of its last CONFIRM_READINGS readings (band/app.py
# ``_check_battery``), and no low or critical is told before that many were taken. A reading
# taken under load is pulled down, never up: a BLE TX burst or a flash erase takes 50-150 mV off
# a LiPo (5-15 % on the curve's flat part, more near empty), and the ESP32's ADC is noisy. One
# such reading at 3 % stopped sensing until the band was charged (the night's monitoring over),
# and one under ``low_battery_pct`` flagged low (the host's battery_low alert) for 10 s. Safe:
# a cell that truly fell under the bar stops sensing at most CONFIRM_READINGS x READ_MS = 30 s
# later (each pass may add a notify's 2 s), and 3 % of the smallest cell lasts far longer: 6 mAh
# of the M5StickC PLUS2's 200 mAh at its 44.7 mA is 8 min (the XIAO's 15 of 500 mAh at 26.5 mA,
# 34 min; hardware/README.md, "Power budget"), and a percent read under load is already low.
# Three: a dip lasts ms and readings are seconds apart, so two in a row are rare, three rarer.
# (Until three were taken since the boot they come 1 s apart: band/app.py _CONFIRM_MS.)
CONFIRM_READINGS = 3


def percent(mv, empty_mv=3300, full_mv=4200):
    """State of charge 0-100 from the cell voltage, the curve stretched to the board's range."""
    lo = _CURVE_MV[0]
    hi = _CURVE_MV[-1]
    # Stretch the board's range onto the curve's.
    v = lo + (mv - empty_mv) * (hi - lo) // (full_mv - empty_mv)
    if v <= lo:
        return 0
    if v >= hi:
        return 100
    i = 1
    while _CURVE_MV[i] < v:
        i += 1
    a = _CURVE_MV[i - 1]
    b = _CURVE_MV[i]
    return (i - 1) * 10 + (v - a) * 10 // (b - a)


class AdcBattery:
    """Cell voltage through a resistor divider on an ADC pin (``machine.ADC`` injected)."""

    def __init__(self, adc, divider_ratio, empty_mv, full_mv):
        self._adc = adc
        self._ratio_milli = int(divider_ratio * 1000)
        self.empty_mv = empty_mv
        self.full_mv = full_mv

    def read_mv(self):
        # read_uv() is calibrated on ESP32 ports; average a few readings against noise.
        s = 0
        for _ in range(4):
            s += self._adc.read_uv()
        return s // 4 * self._ratio_milli // 1000000

"""Battery voltage -> state of charge for a single LiPo cell.

The ADC adapter (board or simulator) gives the cell voltage in mV; this maps
it through a resting-voltage curve between the board's ``empty_mv`` and
``full_mv`` (board definition). Integer math only.
"""

# Resting LiPo voltage (mV, for a 3300-4200 mV cell) at 0, 10, ... 100 % charge.
_CURVE_MV = (3300, 3580, 3680, 3730, 3770, 3800, 3840, 3890, 3960, 4060, 4200)
# Below this the band stops sensing and writing flash so a brown-out cannot
# tear a log record; it keeps advertising its status while it can.
CRITICAL_PCT = 3
# Hysteresis: sensing resumes only above CRITICAL_PCT + RESUME_MARGIN_PCT (charging).
RESUME_MARGIN_PCT = 5


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

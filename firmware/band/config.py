"""Band settings: versioned, validated against the protocol's ranges, stored atomically.

``config.json`` holds ``{"version": 1, "<name>": value, ...}`` with the names
and ranges of ``swcore.wire.CONFIG_KEYS`` (the host and the band share one
table). A missing file gives the defaults; an unreadable, wrong-version or
out-of-range file gives the defaults and sets ``reset`` so the band reports
ERR_CONFIG_RESET instead of running on a half-valid config.
"""

import json

from swcore import wire

NAME = "config.json"
VERSION = 1
DEFAULTS = wire.CONFIG_DEFAULTS  # (the host writes them back at each connection but the rate)
# Values that only take effect after a reboot (the detector is sized for the rate).
NEEDS_REBOOT = (wire.CFG_RATE_HZ,)


def valid(key, value):
    spec = wire.CONFIG_KEYS.get(key)
    if spec is None or not isinstance(value, int) or value < spec[1] or value > spec[2]:
        return False
    return key != wire.CFG_RATE_HZ or value in wire.RATES_HZ


class Config:
    def __init__(self, storage):
        self._storage = storage
        self.values = dict(DEFAULTS)
        self.reset = False
        raw = storage.read(NAME)
        if raw is None:
            return
        try:
            doc = json.loads(raw)
            if doc.get("version") != VERSION:
                raise ValueError("version")
            vals = {}
            for key, spec in wire.CONFIG_KEYS.items():
                v = doc.get(spec[0], DEFAULTS[key])
                if not valid(key, v):
                    raise ValueError(spec[0])
                vals[key] = v
            self.values = vals
        except (ValueError, AttributeError, TypeError):
            self.reset = True

    def get(self, key):
        return self.values[key]

    def set(self, key, value):
        """Store a new value (already validated by the caller); True if it changed.

        OSError if flash fails. The in-RAM value changes only after the file is
        written, so a failed write changes nothing. The same value again costs no
        flash write (the host sends the rate on every connection), except the
        first after a reset, which replaces the bad file; it is no change either.
        """
        if not valid(key, value):
            raise ValueError("config key %d value %d" % (key, value))
        changed = self.values[key] != value
        if not changed and not self.reset:
            return False
        vals = dict(self.values)
        vals[key] = value
        doc = {"version": VERSION}
        for k, spec in wire.CONFIG_KEYS.items():
            doc[spec[0]] = vals[k]
        self._storage.write_atomic(NAME, json.dumps(doc))
        self.values = vals
        self.reset = False  # the file is whole again
        return changed

"""Bonding keys for LE Secure Connections, kept in flash (like aioble.security).

The BLE stack asks for and hands over its secrets through _IRQ_GET_SECRET /
_IRQ_SET_SECRET; they are kept in RAM and written to ``bonds.json`` when they
change, at most ``_MAX_SECRETS`` entries (oldest dropped first).
"""

import binascii
import json

from micropython import const

NAME = "bonds.json"
_MAX_SECRETS = const(24)


class Bonds:
    def __init__(self, storage):
        self._storage = storage
        self._items = []  # [(sec_type, key bytes, value bytes)], oldest first
        self.dirty = False
        raw = storage.read(NAME)
        if raw is None:
            return
        try:
            for t, k, v in json.loads(raw):
                self._items.append((t, binascii.unhexlify(k), binascii.unhexlify(v)))
        except (ValueError, TypeError):
            self._items = []  # unreadable: centrals simply pair again

    def get(self, sec_type, index, key):
        """_IRQ_GET_SECRET: by key, or the index-th secret of that type when key is None."""
        i = 0
        for t, k, v in self._items:
            if t != sec_type:
                continue
            if key is None:
                if i == index:
                    return v
                i += 1
            elif k == key:
                return v
        return None

    def set(self, sec_type, key, value):
        """_IRQ_SET_SECRET: store or (value None) delete; called from the IRQ, saved later."""
        key = bytes(key)
        self._items = [it for it in self._items if not (it[0] == sec_type and it[1] == key)]
        if value is not None:
            self._items.append((sec_type, key, bytes(value)))
            if len(self._items) > _MAX_SECRETS:
                self._items.pop(0)
        self.dirty = True
        return True

    def count(self):
        return len(self._items)

    def save(self):
        # Cleared first: a key the stack hands over while this writes (_IRQ_SET_SECRET, run between
        # any two of the app's bytecodes on a board) sets it again and is saved at the next pass.
        self.dirty = False
        doc = [(t, binascii.hexlify(k).decode(), binascii.hexlify(v).decode()) for t, k, v in self._items]
        try:
            self._storage.write_atomic(NAME, json.dumps(doc))
        except OSError:
            self.dirty = True
            raise

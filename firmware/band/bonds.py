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
        # [(sec_type, key bytes, value bytes)], oldest first; read by band/bondcmd.py (OP_BONDS)
        self.items = []
        self.dirty = False
        raw = storage.read(NAME)
        if raw is None:
            return
        try:
            for t, k, v in json.loads(raw):
                self.items.append((t, binascii.unhexlify(k), binascii.unhexlify(v)))
        except (ValueError, TypeError):
            self.items = []  # unreadable: centrals simply pair again

    def get(self, sec_type, index, key):
        """_IRQ_GET_SECRET: by key, or the index-th secret of that type when key is None."""
        i = 0
        for t, k, v in self.items:
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
        self.items = [it for it in self.items if not (it[0] == sec_type and it[1] == key)]
        if value is not None:
            self.items.append((sec_type, key, bytes(value)))
            if len(self.items) > _MAX_SECRETS:
                self.items.pop(0)
        self.dirty = True
        return True

    def count(self):
        return len(self.items)

    def keep_only(self, key):
        """Remove every central's secrets but ``key``'s. Written to flash first, kept in RAM only once
        written: a write that fails (OSError) changes nothing. The stack then finds no key for the
        others (_IRQ_GET_SECRET answers None) and refuses their re-encryption: they must pair again."""
        kept = [it for it in self.items if it[1] == key]
        self._write(kept)
        self.items = kept

    def save(self):
        # Cleared first: a key the stack hands over while this writes (_IRQ_SET_SECRET, run between
        # any two of the app's bytecodes on a board) sets it again and is saved at the next pass.
        self.dirty = False
        try:
            self._write(self.items)
        except OSError:
            self.dirty = True
            raise

    def _write(self, items):
        doc = [(t, binascii.hexlify(k).decode(), binascii.hexlify(v).decode()) for t, k, v in items]
        self._storage.write_atomic(NAME, json.dumps(doc))

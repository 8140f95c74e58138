"""The BONDS command (OP_BONDS): the family's host counts the centrals bonded to the band and
removes every bond but its own (docs/protocol.md, "BONDS"; docs/firmware.md, "Threat model").

Imported for the command and dropped after it (``App._apply``).
"""

from swcore import wire as P


def run(app, action):
    """(RESP code, arg) of ``action`` for the central of the secure link up (``App._control`` checked it)."""
    bonds = app.bonds
    keys = []  # one per central: the stack keeps its secrets (ours and its own) under its address
    for it in bonds.items:
        if it[1] not in keys:
            keys.append(it[1])
    mine = app.periph.peer_key
    if mine not in keys:  # (None too) the asker's bond is not known: none can be told apart
        return (P.OK, len(keys)) if action == P.BONDS_COUNT else (P.E_STATE, 0)
    if action == P.BONDS_COUNT:
        return P.OK, len(keys) | P.BONDS_ASKER_KNOWN
    try:
        bonds.keep_only(mine)
    except OSError:
        return P.E_FLASH, 0
    # The pairing window shuts too: the family's host is here, and a central just revoked would
    # bond again in what is left of it.
    app._pair_end_ms = 0
    app._pairing_update()
    return P.OK, len(keys) - 1

"""The event log's start-up half (band/eventlog.py, whose module doc says what it does): the
recovery scan of its segments, and the move of a one-file ring (firmware before 2026-12-06)
into segments. Only ``EventLog()`` imports it, at start-up: the app then drops it, so its code
does not stay on the heap all night (docs/firmware.md, "Memory and speed").
"""

from micropython import const

from band.eventlog import SLOT_SIZE

_NONE = const((-1, -1, 0, 0))  # a one-file ring's span with no event (_span)


def open_log(log):
    """Read the log's segments and set its state (``next_seq``, ``oldest_seq``, ``torn``)."""
    st = log._storage
    name = log._name
    moving = name + ".new"
    if st.size(moving) >= 0:  # a move cut short: the one-file ring is still whole, start again
        _remove_dir(st, moving)
    try:
        if st.size(name) < 0:
            if st.size(name + ".log") >= 0 or st.size(name + ".log.old") >= 0:
                _move(log, moving)
            else:
                st.mkdir(name)
    except OSError:  # a full flash: the old files stay whole, the first append says so (ERR_LOG_WRITE)
        log.torn += 1
        _remove_dir(st, moving)
    if st.size(name) >= 0:
        for old in (".log", ".log.old", ".log.new"):
            if st.size(name + old) >= 0:
                st.remove(name + old)  # the move's last step, which a power cut stopped
    bases = []
    for n in st.listdir(name):
        if n.isdigit():
            bases.append(int(n))
        else:
            st.remove(name + "/" + n)  # not a segment (nothing else is written there)
    bases.sort()
    log._bases = bases
    lo = -1
    last = -1
    for j in range(len(bases)):
        end = bases[j + 1] - bases[j] if j + 1 < len(bases) else -1
        first, last = _scan(log, bases[j], end)
        if lo < 0 <= first:
            lo = first
    if bases:  # (none: a new log, or a move the flash refused, which set the ring's next_seq)
        log.next_seq = bases[-1] + last + 1
        try:
            log._f = st.open(log.path(bases[-1]), "r+b")
        except OSError:
            log.torn += 1  # the next append starts a segment at next_seq instead
    log.oldest_seq = lo if lo >= 0 else log.next_seq


def _scan(log, base, n):
    """Read segment ``base`` (its first ``n`` slots; -1: all): (its first good seq or -1, the
    index of its last whole slot or -1), counting damaged slots in ``log.torn``."""
    st = log._storage
    path = log.path(base)
    size = st.size(path)
    k = size // SLOT_SIZE
    if 0 <= n < k:
        k = n
    elif n < 0 and size > k * SLOT_SIZE:
        log.torn += 1  # a partial slot at the end: an append cut short
    first = -1
    try:
        f = st.open(path, "rb")
    except OSError:
        log.torn += 1
        return -1, k - 1
    b = log._slot
    for i in range(k):
        try:
            ok = f.readinto(b) == SLOT_SIZE and log._valid(base + i) >= 0
        except OSError:  # a block the file system cannot read (LittleFS: damaged)
            f.seek((i + 1) * SLOT_SIZE)  # the next slot's place: a failed read leaves it unknown
            ok = False
        if not ok:
            log.torn += 1
        elif first < 0:
            first = base + i
    f.close()
    return first, k - 1


def _remove_dir(st, name):
    for n in st.listdir(name):
        st.remove(name + "/" + n)
    st.rmdir(name)


def _move(log, moving):
    """Copy a one-file ring (``<name>.log``, slot ``seq % its capacity``, and the ``.log.old`` a
    capacity change set beside it) into segments in folder ``moving``, then rename that to the
    log's folder: a power cut before the rename leaves the old files whole (the next boot starts
    again), after it, only their removal to do. Damaged slots are copied as they are (gaps)."""
    st = log._storage
    legacy = log._name + ".log"
    if st.size(legacy + ".new") >= 0 and st.size(legacy) < 0:
        st.rename(legacy + ".new", legacy)  # that firmware's own resize, cut between its two renames
    # That firmware took the capacity asked for (the board's log_slots) when the records sat where
    # it puts them, its file's slot count if that explained more: the file of a ring taken so grew
    # by its appends, or kept slots it no longer used.
    spans = [_span(log, legacy + ".old", 0), _span(log, legacy, log.capacity)]
    if spans[1][3]:
        own = _span(log, legacy, 0)
        if own[1] > spans[1][1] or (own[1] == spans[1][1] and own[3] < spans[1][3]):
            spans[1] = own
    if spans[1][1] <= spans[0][1]:  # nothing newer than the old file's (a ring of damaged slots only)
        spans[1] = _NONE
    # The ring's newest seq less its slots: past the old file's newest, the ring overwrote what
    # followed it (that firmware's rule; not the ring's oldest that reads back, a damaged one later)
    if spans[1][0] >= 0 and spans[0][0] >= 0 and spans[1][1] - spans[1][2] > spans[0][1]:
        spans[0] = _NONE  # dropped there too
    # Said even if the flash refuses the copy (nothing readable till then): never back to 0, which
    # a host takes for an erased log.
    log.next_seq = max(spans[0][1], spans[1][1]) + 1
    st.mkdir(moving)
    w = None
    base = nxt = 0
    for (first, last, k, _), src in zip(spans, (legacy + ".old", legacy)):
        if first < 0:
            continue
        f = st.open(src, "rb")
        for seq in range(first, last + 1):
            if w is None or seq != nxt or seq - base >= log._seg:
                if w is not None:
                    w.close()
                base = seq
                w = st.open(moving + "/" + str(seq), "wb")
            try:
                f.seek((seq % k) * SLOT_SIZE)
                f.readinto(log._slot)
            except OSError:  # a block the file system cannot read: a damaged slot, a gap
                for i in range(SLOT_SIZE):
                    log._slot[i] = 0
            w.write(log._slot)
            nxt = seq + 1
        f.close()
    if w is not None:
        w.close()
    st.rename(moving, log._name)


def _span(log, path, cap):
    """(first seq, last seq, capacity, misplaced) of a one-file ring of ``cap`` slots (0: its file's
    slot count; a wrapped ring fills its file), seq in slot seq % capacity, ``misplaced`` counting
    whole records elsewhere; first -1 if none. Unwrapped (every seq in its own slot), up to its last
    whole slot not empty, valid or not (that firmware kept a damaged newest one's seq used); with
    none that reads back nor misplaced, that slot alone (copied as it is: the seqs stay used, a gap)."""
    st = log._storage
    k = st.size(path) // SLOT_SIZE
    if k <= 0:
        return _NONE
    c = cap if cap > 0 else k
    lo = hi = last = -1
    moved = 0
    b = log._slot
    f = st.open(path, "rb")
    for i in range(k):
        try:
            seq = log._valid(-1) if f.readinto(b) == SLOT_SIZE else -1
        except OSError:
            f.seek((i + 1) * SLOT_SIZE)
            last = i
            continue
        if seq >= 0 and seq % c != i:
            seq = -1
            moved += 1
        if seq < 0:
            if any(b):
                last = i
            continue
        last = i
        hi = seq if seq > hi else hi
        lo = seq if lo < 0 or seq < lo else lo
    f.close()
    if hi < 0:  # none reads back: as unwrapped, its last whole slot not empty keeps the seqs used
        return (last, last, c, 0) if last >= 0 and not moved else (-1, -1, 0, moved)
    if hi < c:
        return lo, last if last > hi else hi, c, moved
    return (lo if lo > hi - c else hi - c + 1), hi, c, moved

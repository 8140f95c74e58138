"""The event log's start-up half (band/eventlog.py, whose module doc says what it does): the
recovery scan of its file(s) and a capacity change. Only ``EventLog.open`` and
``EventLog.resize`` import it, at start-up: the app then drops it, so its code does
not stay on the heap all night (docs/firmware.md, "Memory and speed").
"""

from band.eventlog import SLOT_SIZE

_EMPTY = bytes(SLOT_SIZE)


def open_ring(log):
    """EventLog.open: read the ring's file(s) and set the log's state (the module doc)."""
    st = log._storage
    name = log._name
    old = name + ".old"
    new = name + ".new"
    if st.size(new) >= 0:  # a resize cut short (the new ring never holds an event before its rename)
        if st.size(name) < 0 and st.size(old) >= 0:
            try:
                st.rename(new, name)  # it was written whole and the old ring set aside: finish
            except OSError:
                pass  # then the old ring goes back (below): the resize is undone, not the band
        if st.size(new) >= 0:
            st.remove(new)
    if st.size(name) < 0:
        if st.size(old) >= 0:
            st.rename(old, name)
        else:
            st.open(name, "wb").close()
    log.capacity = log.want
    log._f = f = st.open(name, "r+b")
    size = st.size(name)
    k = size // SLOT_SIZE
    hi, lo, moved, log.torn, last = _scan(log, f, k, log.capacity)
    if moved:  # not all where the wanted capacity puts them: written with another one?
        scan = _scan(log, f, k, k)  # its own, the file's slot count (a wrapped ring fills it)
        if scan[0] > hi or (scan[0] == hi and scan[2] < moved):  # it explains more
            log.capacity = k
            hi, lo, moved, log.torn, last = scan
    if size > k * SLOT_SIZE and k < log.capacity:
        log.torn += 1  # a partial slot at the end: an append cut short
    if k < log.capacity and hi < last:
        # Not wrapped (a resize writes its file full): slot i holds seq i, and each whole slot not
        # empty was appended, so a damaged newest one (a bit error, a block the file system
        # refuses) keeps its seq used. Taken again, it went below seqs a host holds, which read it
        # as an erased log and stored the ring's events a second time; now they are a BACKFILL's gap.
        hi = last
        if lo < 0:
            lo = 0
    log._base = 0
    if st.size(old) >= 0:
        o = st.open(old, "rb")
        ok = st.size(old) // SLOT_SIZE
        ohi, olo, _, torn, _ = _scan(log, o, ok, ok)
        log.torn += torn
        if ohi >= 0 and hi - log.capacity <= ohi:  # the ring has not overwritten what follows it
            log._old = o
            log._old_cap = ok
            log._base = ohi + 1
            if hi < 0:
                hi = ohi
            lo = olo if olo > ohi - ok else ohi - ok + 1
        else:
            o.close()
            st.remove(old)
    log.next_seq = hi + 1
    floor = log.next_seq - log.capacity
    if log._old is None:
        log.oldest_seq = lo if lo > floor else (floor if floor > 0 else 0)
    else:
        log.oldest_seq = lo
    if hi < 0:
        log.oldest_seq = 0


def _scan(log, f, n, cap):
    """Read slots 0..n-1: (highest seq, lowest seq, misplaced, torn, last) over the records in place
    for ``cap`` slots; ``misplaced`` counts whole records that are not (another capacity's), ``last``
    is the last slot not empty (-1: none)."""
    hi = -1
    last = -1
    lo = -1
    moved = 0
    torn = 0
    b = log._slot
    f.seek(0)
    for i in range(n):
        try:
            seq = log._valid(-1, cap) if f.readinto(b) == SLOT_SIZE else -2
        except OSError:  # a block the file system cannot read (LittleFS: damaged): a torn slot
            f.seek((i + 1) * SLOT_SIZE)  # the next slot's place: a failed read leaves it unknown
            if i < cap:
                torn += 1
            last = i
            continue
        if seq >= 0 and seq % cap != i:
            moved += 1
            seq = -1
        if seq < 0:
            if b != _EMPTY:  # an all-zero slot is empty (a resize writes them)
                last = i
                if i < cap:
                    torn += 1
            continue
        last = i
        if seq > hi:
            hi = seq
        if lo < 0 or seq < lo:
            lo = seq
    return hi, lo, moved, torn, last


def resize(log):
    """EventLog.resize, once its capacity is not the wanted one."""
    if log._old is not None or log._f is None:
        return False
    st = log._storage
    name = log._name
    new = name + ".new"
    b = log._slot
    for i in range(SLOT_SIZE):
        b[i] = 0
    try:
        f = st.open(new, "wb")
        try:
            for i in range(log.want):  # one empty slot at a time: no buffer the size of the ring
                f.write(b)
            f.flush()
        finally:
            f.close()
        log.close()
        st.rename(name, name + ".old")
    except OSError:
        log.write_errors += 1
        if log._f is None:
            open_ring(log)
        else:
            st.remove(new)
        return False
    open_ring(log)  # finishes the resize (new -> log) and reads both files
    if log.capacity != log.want:
        log.write_errors += 1
        return False
    return True


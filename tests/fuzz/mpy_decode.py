# Runs under the real MicroPython binary: feeds inputs to the band's own parsers, one per line.
# usage: micropython mpy_decode.py MODE < INPUTS   (MICROPYPATH must hold firmware/)
# INPUTS: one hex string per line. MODE:
#   command  what App._control does with a control write: P.decode_command, and on a
#            ProtocolError the RESP it would send; a config write that decodes must also
#            pass band.config.valid (Config.set raises ValueError otherwise, which
#            _control does not catch)
#   record   P.decode (band -> host records; shared code)
#   config   band.config.Config over a config.json holding those bytes
#   frames   a FrameDecoder fed each line as one read; an empty line starts a new decoder
# Prints one JSON line per input: ["ok", result], ["E", code] (ProtocolError) or
# ["X", "Type: message"] (anything else: a crash on the band).
# test_fuzz_firmware imports decoded_command and record to get CPython's answers from the
# same code; band.config is imported where it is used, as it is not on CPython's path.
import json
import sys

from swcore import protocol as P


class _Storage:
    def __init__(self, data):
        self.data = data

    def read(self, name):
        return self.data

    def write_atomic(self, name, data):
        self.data = data


def _unhex(s):
    return bytes(int(s[i : i + 2], 16) for i in range(0, len(s), 2))


def _hex(b):
    return "".join("%02x" % x for x in b)


def decoded_command(data):
    """P.decode_command's answer: ["ok", [op, args]] or ["E", code]."""
    try:
        op, args = P.decode_command(data)
    except P.ProtocolError as e:
        return ["E", e.code]
    return ["ok", [op, list(args)]]


def command(data):
    from band import config as C

    out = decoded_command(data)
    if out[0] == "E":
        P.encode_resp(data[1] if len(data) > 1 else 0, out[1], 0)  # the RESP App._control sends
    elif out[1][0] == P.OP_CONFIG and not C.valid(out[1][1][0], out[1][1][1]):
        return ["X", "band.config.valid refuses what decode_command accepted: %r" % (out[1][1],)]
    return out


def record(data):
    try:
        d = P.decode(data)
    except P.ProtocolError as e:
        return ["E", e.code]
    if "samples" in d:
        d["samples"] = [list(s) for s in d["samples"]]
    return ["ok", d]


def config(data):
    from band import config as C

    c = C.Config(_Storage(data))
    for key, v in c.values.items():
        if not C.valid(key, v):
            return ["X", "Config kept an invalid value %r for key %d" % (v, key)]
    return ["ok", [c.reset, sorted(c.values.items())]]


def main(mode):
    fn = {"command": command, "record": record, "config": config}.get(mode)
    dec = P.FrameDecoder()
    for line in sys.stdin:
        line = line.strip()
        try:
            if mode == "frames":
                if not line:
                    dec = P.FrameDecoder()
                    out = ["ok", "reset"]
                else:
                    out = ["ok", [_hex(p) for p in dec.feed(_unhex(line))]]
            else:
                out = fn(_unhex(line))
        except Exception as e:  # noqa: BLE001  (the point: report whatever escapes)
            out = ["X", "%s: %s" % (type(e).__name__, e)]
        print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])

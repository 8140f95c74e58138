// Runs a MicroPython script under one of the WebAssembly builds in node_modules,
// the way the unix port's `micropython` binary runs it:
//
//   node --single-threaded tools/mpwasm/run.mjs VERSION [-X heapsize=N[k|m]] SCRIPT.py [ARGS...]
//
// (--single-threaded: see command() in __init__.py, which tests and the bench use; and the exit at the end.)
//
// VERSION names a package of package.json (e.g. mp-1.23.0). MICROPYPATH (':'-separated,
// '.frozen' kept) becomes sys.path, then lib/ (a socket module: the port has none). The port has no host file system (its only one is
// Emscripten's in-memory MEMFS), so every directory on MICROPYPATH, the script, and each
// argument naming an existing file or directory are copied in at the same absolute path
// before the script runs; what the script writes stays in memory and is gone at exit.
// Exit status as the binary's: SystemExit's code, 1 and the traceback on stderr for an
// uncaught exception. The heap size is only where the heap starts: these builds grow it.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const version = argv.shift();
if (!version || !argv.length) {
    console.error("usage: node run.mjs VERSION [-X heapsize=N] SCRIPT.py [ARGS...]");
    process.exit(2);
}
const pkg = path.join(here, "node_modules", version);
if (!fs.existsSync(path.join(pkg, "micropython.mjs"))) {
    console.error(`MicroPython WebAssembly ${version} is not installed in ${here}/node_modules: run 'make install' (npm ci --prefix tools/mpwasm)`);
    process.exit(2);
}
let heapsize = 1024 * 1024;
if (argv[0] === "-X") {
    const m = /^heapsize=(\d+)([km]?)$/i.exec(argv[1] || "");
    if (!m) {
        console.error(`bad -X option: ${argv[1]}`);
        process.exit(2);
    }
    heapsize = Number(m[1]) * { "": 1, k: 1024, m: 1024 * 1024 }[m[2].toLowerCase()];
    argv.splice(0, 2);
}
const script = path.resolve(argv[0]);
const args = argv.slice(1);
const sysPath = (process.env.MICROPYPATH || ".frozen").split(":").filter((p) => p);
sysPath.push(path.join(here, "lib"));

const { loadMicroPython } = await import(path.join(pkg, "micropython.mjs"));
const mp = await loadMicroPython({
    url: path.join(pkg, "micropython.wasm"), // the oldest builds look for it in the working directory
    heapsize,
    stdout: (b) => process.stdout.write(typeof b === "string" ? b + "\n" : b),
    stderr: (b) => process.stderr.write(typeof b === "string" ? b + "\n" : b),
    linebuffer: false, // the oldest builds ignore it: they pass each line as a string, without its newline
});

function copyIn(p) {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
        mp.FS.mkdirTree(p);
        for (const name of fs.readdirSync(p)) {
            if (name !== "__pycache__" && name !== "node_modules") copyIn(path.join(p, name));
        }
    } else {
        mp.FS.mkdirTree(path.dirname(p));
        mp.FS.writeFile(p, fs.readFileSync(p));
    }
}
for (const p of sysPath) {
    if (p !== ".frozen" && fs.existsSync(p)) copyIn(path.resolve(p));
}
copyIn(script);
for (const a of args) {
    if (a.startsWith("/") && fs.existsSync(a)) copyIn(a);
}

// Python literals from JSON: strings only.
const lit = (xs) => "[" + xs.map((x) => JSON.stringify(x)).join(", ") + "]";
mp.runPython(`
import sys
sys.argv[:] = ${lit([script, ...args])}
sys.path[:] = ${lit(sysPath)}
`);
// These builds collect garbage only between calls into them, at the top level where no C
// stack can hold a pointer: gc.collect() from Python does nothing (gc.mem_alloc() counts
// all garbage since the call began). A script that measures its heap marks the places to
// collect with a line "#--- collect"; each part runs in its own call, in one namespace.
const parts = fs.readFileSync(script, "utf8").split(/^(?=#--- collect)/m);
const EXIT_FILE = "/.run_mjs_exit";
mp.runPython(`
import micropython
_g = {"__name__": "__main__", "__file__": ${JSON.stringify(script)}}
def _run(src):  # in a function: under heap_lock() a new global name could not be stored
    try:
        exec(compile(src, _g["__file__"], "exec"), _g)
        return 0
    except SystemExit as e:
        code = e.args[0] if e.args else 0
        if not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        return code or -1  # stop here: the status is set below
    except BaseException as e:
        micropython.heap_lock()  # then unlock to the depth before it (unlocking an unlocked heap hangs 1.22)
        d = micropython.heap_unlock()
        while d:  # raised under heap_lock(): printing the traceback needs the heap
            d = micropython.heap_unlock()
        sys.print_exception(e, sys.stderr)
        return 1
def _status(code):
    with open("${EXIT_FILE}", "w") as f:
        f.write(str(code))
`);
let line = 0;
for (const part of parts) {
    // Padded with the lines before it, so tracebacks give the script's own line numbers.
    const src = "\n".repeat(line) + part;
    line += part.split("\n").length - 1;
    mp.runPython(`_status(_run(${JSON.stringify(src)}))`);
    if (getExit() !== 0) break;
}
// The status as the script's wrapper wrote it (the oldest builds' API has no globals.get).
function getExit() {
    return Number(new TextDecoder().decode(mp.FS.readFile(EXIT_FILE)));
}
const status = getExit();
// The oldest builds keep a last line without its newline: write it out.
const mod = mp._module;
for (const [buf, out] of [[mod._stdoutBuffer, process.stdout], [mod._stderrBuffer, process.stderr]]) {
    if (buf && buf.length) out.write(new Uint8Array(buf));
}
// Exit at once rather than letting node wind down: left to itself it sometimes never exited
// (1 run in 300 of the oldest build, all output written; a 120 s timeout in a fresh clone's make
// test). process.exit itself still hung while V8's background threads had work (13 in ~120 runs
// of one script): command() starts node with --single-threaded, which has none. Writes to pipes
// and files are synchronous on Linux, so nothing written above is lost.
process.exit(Math.max(status, 0));

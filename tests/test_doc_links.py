"""Every cross-reference in the docs resolves: markdown links (and their #anchors), repository
paths such as `docs/host.md` or `host/spasmwatch/alerts/`, and sections named in quotes
(docs/host.md, "Raw samples"). Found by the docs run: "Band session" was cited in
hardware/BRINGUP.md and docs/host.md for a section called "Session state machine", and
hardware/README.md had a [shared/design.md] that linked nowhere. A doc named by its path or name
(`../shared/design.md`, design.md) must be one of the repository's: until 2026-12-07 only links and
paths under the repository's own folders were checked, and twenty references to the design notes,
a file beside the checkout that a clone does not have, went through. A module named by a shorter
path (`daemon/api.py`, `matchtwin.py`) or by its dotted name (`spasmwatch.errors.InputError`) must be
one too: until 2026-12-07 only paths from the repository's top were, and docs/firmware.md named the
removed `sim/cutflash.py`, docs/simulator.md the removed `spasmwatch.sim.OutputError`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "hardware").glob("*.md")), *sorted((ROOT / "docs").glob("*.md"))]
TOP = ("docs", "hardware", "host", "firmware", "tests", "tools", "bench")
# Paths the docs name that are not files of this repository, each for its reason.
NOT_HERE = {
    "docs/en/api-reference/peripherals/adc.rst",  # ESP-IDF's documentation, cited as a source
    "hardware/boards/X.json",  # a placeholder for any board
    "bench/results/summary.json",  # written by bench/run_all.py
    "bench/results/fuzz/csv/crash-",  # the start of a crash file's name, written by a fuzz run
    "esptool.py", "espefuse.py",  # esptool's commands, as older esptool names them
    "bleak/backends/bluezdbus/manager.py",  # bleak's, cited for its behaviour
}
# A Python file named by any path or its name alone: the end of some file's path here.
PY_NAME = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.py)\b")
PY_FILES = ["/" + str(p.relative_to(ROOT)) for top in TOP for p in (ROOT / top).rglob("*.py") if "node_modules" not in p.parts]
# A dotted name in one of the packages: spasmwatch.errors.InputError, swcore.wire, band.app._forget.
DOTTED = re.compile(r"(?<![\w.])((?:spasmwatch|swcore|band)(?:\.\w+)+)")
PACKAGES = {"spasmwatch": ROOT / "host" / "spasmwatch", **{p: ROOT / "firmware" / p for p in ("swcore", "band")}}
LINK = re.compile(r"\]\(([^)\s]+)\)")
# A doc named by its path or name, in prose or code ('../x/y.md', 'docs/host.md', 'design.md'),
# not a part of a longer path or address, nor a link's target (LINK's).
MD_NAME = re.compile(r"(?<![\w/.-])(?<!\]\()((?:\.\./)*(?:[\w-]+/)*[\w-]+\.md)\b")
# [file.md] with no (target) and no [file.md]: definition shows as its brackets, linking nowhere.
BARE = re.compile(r"(?<!\])\[([^\]\s]+\.md)\](?![(\[:])")
PATH = re.compile(r"(?<![\w/.-])((?:%s)/[\w./-]*[\w-])" % "|".join(TOP))
# doc.md "Section", doc.md, "Section", doc.md ("Section"): not when the quote is followed by
# " in other.md" (a list of "Section" in doc.md, read by IN below).
AFTER = re.compile(r"((?:docs/|hardware/)?[\w-]+\.md)`?,? \(?\"([^\"]{3,80})\"(?! in )")
IN = re.compile(r"\"([^\"]{3,80})\",? in ((?:docs/|hardware/)?[\w-]+\.md)")


def _no_code(text: str) -> str:
    return re.sub(r"```.*?```", "", text, flags=re.S)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").strip().lower()
    return "".join(c for c in text if c.isalnum() or c in " -_").replace(" ", "-")


def _headings(doc: Path) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(r"^#{1,6}\s+(.*?)\s*$", _no_code(doc.read_text()), re.M)]


def _sections(doc: Path) -> list[str]:
    """What a quote may name: a heading (or its start, before a `(file)` note) or a **bold** label."""
    bold = re.findall(r"\*\*([^*]{3,80}?)\*\*", doc.read_text())
    return [" ".join(re.sub(r"[`*]", "", s).split()).lower() for s in _headings(doc) + bold]


def _target(doc: Path, name: str) -> Path | None:
    for base in (ROOT, doc.parent, ROOT / "docs"):
        if (base / name).is_file():
            return base / name
    return None


def _dotted_missing(dotted: str) -> str | None:
    """What of ``dotted`` is not there: a module, or a name its module never mentions. Not a
    module's name after the package (spasmwatch.db, band.toml: a file, a config key): not read."""
    parts = dotted.split(".")
    where, i = PACKAGES[parts[0]], 1
    while i < len(parts) and (where / parts[i]).is_dir():
        where, i = where / parts[i], i + 1
    if i < len(parts) and (where / f"{parts[i]}.py").is_file():
        where, i = where / f"{parts[i]}.py", i + 1
    elif i == 1:
        return None
    else:
        where = where / "__init__.py"
    if i < len(parts) and not re.search(r"\b%s\b" % parts[i], where.read_text()):
        return ".".join(parts[: i + 1])
    return None


def _where(doc: Path) -> str:
    return str(doc.relative_to(ROOT))


def broken(doc: Path, text: str | None = None) -> list[str]:
    """What in ``doc`` (its text, or ``text`` read as if it were there) does not resolve."""
    text = doc.read_text() if text is None else text
    prose = _no_code(text)
    out = []
    for m in LINK.finditer(prose):
        target = m.group(1)
        if re.match(r"[a-z]+:", target):
            continue  # a URL
        path, _, anchor = target.partition("#")
        file = (doc.parent / path) if path else doc
        if not file.exists():
            out.append(f"{_where(doc)}: link to a missing file: {target}")
        elif anchor and file.suffix == ".md" and anchor not in {_slug(h) for h in _headings(file)}:
            out.append(f"{_where(doc)}: link to a missing heading: {target}")
    for m in BARE.finditer(prose):
        if not re.search(r"^\[%s\]:" % re.escape(m.group(1)), text, re.M):
            out.append(f"{_where(doc)}: [{m.group(1)}] links nowhere (no (target), no definition)")
    for m in PATH.finditer(text):
        path = m.group(1).rstrip(".")
        if "*" not in path and path not in NOT_HERE and not (ROOT / path).exists():
            out.append(f"{_where(doc)}:{text.count(chr(10), 0, m.start()) + 1}: no such path: {path}")
    for m in MD_NAME.finditer(text):
        name = m.group(1)
        file = _target(doc, name)
        if name not in NOT_HERE and (file is None or ROOT not in file.resolve().parents):
            line = text.count(chr(10), 0, m.start()) + 1
            out.append(f"{_where(doc)}:{line}: {name} is no file of the repository (a clone has none)")
    for m in PY_NAME.finditer(text):
        name = m.group(1)
        if name.split("/")[0] in TOP or name in NOT_HERE:
            continue  # a path from the top: PATH's
        if not any(f.endswith("/" + name) for f in PY_FILES):
            out.append(f"{_where(doc)}:{text.count(chr(10), 0, m.start()) + 1}: no such module: {name}")
    for m in DOTTED.finditer(text):
        missing = _dotted_missing(m.group(1))
        if missing:
            out.append(f"{_where(doc)}:{text.count(chr(10), 0, m.start()) + 1}: no such module or name: {missing}")
    flat = " ".join(prose.split())
    refs = [(m.group(1), m.group(2)) for m in AFTER.finditer(flat)] + [(m.group(2), m.group(1)) for m in IN.finditer(flat)]
    for name, section in refs:
        file = _target(doc, name)
        if file is None:
            continue  # a file named in passing (night1.md is no doc here); paths are checked above
        want = " ".join(section.split()).lower().rstrip(".")
        if not any(s == want or s.startswith(want) for s in _sections(file)):
            out.append(f'{_where(doc)}: {name} has no section "{section}"')
    return out


@pytest.mark.parametrize("doc", DOCS, ids=_where)
def test_every_reference_in_the_docs_resolves(doc: Path) -> None:
    assert broken(doc) == []


def test_the_check_finds_a_broken_reference() -> None:
    """The check itself: one broken reference of each kind, read as if in docs/, one complaint each."""
    text = (
        "See [the store](store.md) and [gone](nowhere.md), [a heading](host.md#no-such-heading), [store.md],\n"
        '`host/spasmwatch/no_such_module.py`, docs/host.md, "No such section", and docs/host.md, "Raw samples".\n'
        "Read `../shared/design.md` (beside the checkout), as design.md says.\n"
        "`daemon/no_such.py` raises `spasmwatch.sim.NoSuchError`, not `spasmwatch.errors.InputError`.\n"
    )
    got = broken(ROOT / "docs" / "web.md", text)
    want = ("nowhere.md", "#no-such-heading", "[store.md] links nowhere", "no_such_module.py", "No such section",
            "../shared/design.md is no file", " design.md is no file", "no such module: daemon/no_such.py",
            "no such module or name: spasmwatch.sim.NoSuchError")  # fmt: skip
    assert len(got) == len(want) and all(x in "\n".join(got) for x in want), got


def _unnamed(text: str, folder: Path, prefix: str = "") -> list[str]:
    """The modules and folders of ``folder`` (their names starting with ``prefix``) that ``text``
    does not name (``name.py``, ``name/``)."""
    kids = [p.name + ("/" if p.is_dir() else "") for p in folder.iterdir() if p.suffix == ".py" or p.is_dir()]
    kids = [k for k in kids if k.startswith(prefix) and not k.startswith("__")]
    named = {k for k in kids if re.search(r"(?<![\w-])%s(?!\w)" % re.escape(k), text)}  # lock.py is not clock.py
    return [f"{folder.relative_to(ROOT)}/{k}" for k in sorted(kids) if k not in named]


HOST = ROOT / "host" / "spasmwatch"


def _host_tree() -> str:
    """docs/host.md's tree of the host package."""
    doc = (ROOT / "docs" / "host.md").read_text()
    return doc[doc.index("```\nhost/spasmwatch/\n") : doc.index("```\n\n", doc.index("host/spasmwatch/\n"))]


# A line of the tree that opens an entry of the package's top: two spaces, then its names
# ("cli.py", "commands/", "threads.py, lookups.py"); the deeper lines under it are its text.
ENTRY = re.compile(r"^  ([\w.]+/?(?:, [\w.]+/?)*)(?!\S)", re.M)


def _entries(tree: str) -> dict[str, str]:
    """Each name of the package's top that ``tree`` has an entry for, and that entry's text."""
    starts = list(ENTRY.finditer(tree))
    ends = [m.start() for m in starts[1:]] + [len(tree)]
    return {name: tree[m.start() : end] for m, end in zip(starts, ends) for name in m.group(1).split(", ")}


def _scope(entries: dict[str, str], folder: Path) -> str:
    """The text of the tree where ``folder``'s modules are named: its top entry's, from where
    each deeper folder on the way is named (alerts/ "... channels/ (base.py, ..."); nothing
    where one is not."""
    top, *deeper = folder.relative_to(HOST).parts
    text = entries.get(top + "/", "")
    for name in deeper:
        m = re.search(r"(?<![\w-])%s/" % re.escape(name), text)
        text = text[m.start() :] if m else ""
    return text


def _tree_unnamed(tree: str) -> list[str]:
    """The folders and modules of the host package that ``tree`` does not name, each looked for in
    its own folder's entry (two base.py, transport/'s and alerts/channels/', are two names; the
    top's modules by an entry of their own), the commands but their shared helpers (one module a
    command, cli.COMMANDS)."""
    entries = _entries(tree)
    folders = [p.parent for p in sorted(HOST.glob("*/**/__init__.py"))]
    return _unnamed(" ".join(entries), HOST) + [
        m for f in folders for m in _unnamed(_scope(entries, f), f, "_" if f == HOST / "commands" else "")
    ]


def test_the_tree_check_reads_each_module_in_its_own_folder() -> None:
    """A module left out of its folder's lines is missing though one of the same name is named in
    another folder's: transport/base.py's line taken out (alerts/channels/ names a base.py), and
    the top's cli.py (sim/ names a cli.py, commands/ 'sim/cli.py'). Until review h46 the check
    looked for the file's name anywhere in the tree, and both passed."""
    tree = _host_tree()
    lines = [line for line in tree.splitlines() if line.startswith("    base.py ") or line.startswith("  cli.py ")]
    assert len(lines) == 2, lines  # the probe's lines are still there to take out
    for line in lines:
        assert line in tree and _tree_unnamed(tree) == []
        without = tree.replace(line + "\n", "")
        folder = "transport/base.py" if "base.py" in line else "host/spasmwatch/cli.py"
        assert [m for m in _tree_unnamed(without) if m.endswith(folder)] != [], (line, _tree_unnamed(without))


def test_the_maps_name_every_module_a_newcomer_needs() -> None:
    """docs/host.md's tree names every folder and module of the host package and of its
    packages (the commands but their shared helpers: one module a command, cli.COMMANDS), and
    docs/firmware.md's Layout every module of the band. Until 2026-12-07 the tree left out 37 of
    the top's, daemon/'s, alerts/', store/'s and transport/'s alone: 14 of daemon/'s 21 (wiring.py,
    main.py, lock.py, stopping.py, ...), the package's own helpers (errors.py, private.py, ...),
    modules added that day (alerts/sound_tool.py), and none inside analysis/, io/, sim/, .... Nor
    were the packages inside those read: 9 modules of alerts/channels/ and alerts/lang/ were named
    in short ('sound', 'de') or not at all (fingerprint_key.py). Each module is looked for in its
    own folder's entry since review h46 (test_the_tree_check_reads_each_module_in_its_own_folder)."""
    firmware = ROOT / "firmware"
    missing = _tree_unnamed(_host_tree())
    doc = (ROOT / "docs" / "firmware.md").read_text()
    layout = doc[doc.index("## Layout") : doc.index("\n## ", doc.index("## Layout") + 1)]
    missing += [m for d in ("band", "sim", "swcore") for m in _unnamed(layout, firmware / d)]
    assert missing == [], "named in no map (docs/host.md's tree, docs/firmware.md's Layout): %s" % missing

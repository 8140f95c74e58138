"""Putting the firmware on a band and reading it back: ``spasmwatch flash`` and ``spasmwatch board``.

Layers, bottom up: ``link`` (a raw REPL over USB serial through mpremote's
transport, or a local MicroPython unix-port process behind the same
transport), ``device`` (file and status operations run as small programs on
the band), ``firmware`` (the files to install, compiled with mpy-cross),
``sync`` (what to copy, in which order, and the verification), and the two
CLI modules ``flash_command`` and ``board_command``.
"""

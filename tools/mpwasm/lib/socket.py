# socket for firmware/sim under MicroPython's WebAssembly port, which has none (tools/mpwasm).
# The simulated radio (firmware/sim/bluetooth.py) opens a listening socket when the app turns
# it on; under node no central can reach it, so this is that listener with no central ever
# connecting: accept() finds none (EAGAIN, as a non-blocking listener does). Anything a
# connection would need is absent, so a script that tries to use one fails loudly.
import errno

AF_INET = 2
SOCK_STREAM = 1
SOL_SOCKET = 1
SO_REUSEADDR = 4


def getaddrinfo(host, port):
    return [(AF_INET, SOCK_STREAM, 0, "", (host, port))]


class socket:
    def __init__(self, af=AF_INET, kind=SOCK_STREAM):
        pass

    def setsockopt(self, level, opt, value):
        pass

    def bind(self, addr):
        pass

    def listen(self, n):
        pass

    def setblocking(self, flag):
        pass

    def accept(self):
        raise OSError(errno.EAGAIN)

    def close(self):
        pass

"""Files on the band's flash filesystem (LittleFS on a board, a directory on the unix port).

Everything the band keeps goes through one ``Storage`` so the simulator can
put it in a test directory and inject power loss. Small state files are
written whole to a temporary name and renamed over the old one: LittleFS
renames atomically, so a power cut leaves either the old or the new file.
"""

import os


class Storage:
    def __init__(self, root):
        self.root = root.rstrip("/")

    def path(self, name):
        return self.root + "/" + name

    def open(self, name, mode):
        return open(self.path(name), mode)

    def size(self, name):
        try:
            return os.stat(self.path(name))[6]
        except OSError:
            return -1

    def read(self, name):
        """Whole file as bytes, or None if it does not exist or cannot be read."""
        try:
            with self.open(name, "rb") as f:
                return f.read()
        except OSError:
            return None

    def write_atomic(self, name, data):
        tmp = name + ".tmp"
        with self.open(tmp, "wb") as f:
            f.write(data)
        os.rename(self.path(tmp), self.path(name))

    def rename(self, src, dst):
        os.rename(self.path(src), self.path(dst))

    def remove(self, name):
        try:
            os.remove(self.path(name))
        except OSError:
            pass

    def mkdir(self, name):
        os.mkdir(self.path(name))

    def listdir(self, name):
        """The names in folder ``name`` ([] if it cannot be read)."""
        try:
            return os.listdir(self.path(name))
        except OSError:
            return []

    def rmdir(self, name):
        try:
            os.rmdir(self.path(name))
        except OSError:
            pass

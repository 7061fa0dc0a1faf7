# testworld.py - a test world (start.sh / stop.sh) as a Python object, for
# the test programs that start several worlds of their own.
import os
import re
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


class WorldFailed(Exception):
    pass


def read_exports(text, env):
    """Adds the "export NAME=VALUE" lines of TEXT to ENV."""
    for line in text.splitlines():
        m = re.match(r"export (\w+)=(.*)$", line.strip())
        if m:
            env[m.group(1)] = m.group(2).strip("'")


class World:
    """start.sh OPTS BUILD DIR in a fresh temporary DIR (prefix PREFIX); the
    environment it prints, without the caller's agent and pcscd."""

    def __init__(self, build, opts, prefix="dualscd-world.", timeout=90):
        self.build = build
        self.dir = tempfile.mkdtemp(prefix=prefix)
        out = subprocess.run(
            [os.path.join(HERE, "start.sh")] + list(opts) + [build, self.dir],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
        if out.returncode:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise WorldFailed("start.sh failed: " + out.stderr.strip()[-800:])
        self.env = dict(os.environ, LC_ALL="C")
        for var in ("GPG_AGENT_INFO", "SSH_AUTH_SOCK", "PCSCLITE_CSOCK_NAME"):
            self.env.pop(var, None)
        read_exports(out.stdout, self.env)

    def path(self, name):
        return os.path.join(self.dir, name)

    def stop(self):
        """stop.sh; the directory is removed when everything stopped
        cleanly.  Returns (exit status, what stop.sh said)."""
        out = subprocess.run([os.path.join(HERE, "stop.sh"), self.dir],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, timeout=60)
        if out.returncode == 0:
            shutil.rmtree(self.dir, ignore_errors=True)
        return out.returncode, out.stdout

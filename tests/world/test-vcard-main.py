#!/usr/bin/python3
# test-vcard-main.py BUILD_DIR - dualscd-vcard against a fake vpcd (TAP).
#
# The fake plays pcscd's vpcd driver: it listens, and speaks the framing
# (2-byte big-endian length, then a control byte or an APDU).  Checked: the
# options, reconnecting when vpcd is late or goes away, the control codes,
# an APDU round trip, an oversized frame answered 6700 with the stream kept
# in step, --latency-ms, no core dumps, and a clean exit on SIGTERM while
# blocked in a receive and while waiting to reconnect.
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

SELECT_OPENPGP = bytes.fromhex("00A4040006D2760001240100")
results = []


def report(ok, name, note=""):
    results.append(ok)
    print("%s %d - %s%s" % ("ok" if ok else "not ok", len(results), name,
                             " (%s)" % note if note else ""))
    sys.stdout.flush()


class FakeVpcd:
    def __init__(self, port=0):
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", port))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.conn = None

    def accept(self, timeout=5.0):
        self.lsock.settimeout(timeout)
        self.conn, _ = self.lsock.accept()
        self.conn.settimeout(5.0)

    def send(self, payload):
        # Two writes, as vpcd does: the card must not wait on a delayed ACK.
        self.conn.sendall(struct.pack(">H", len(payload)))
        self.conn.sendall(payload)

    def recv(self):
        hdr = self._exact(2)
        return self._exact(struct.unpack(">H", hdr)[0])

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.conn.recv(n - len(buf))
            if not chunk:
                raise EOFError("card closed the connection")
            buf += chunk
        return buf

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def shutdown(self):
        self.close()
        self.lsock.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_card(exe, tmp, port, *extra):
    log = open(os.path.join(tmp, "card.stderr"), "ab")
    return subprocess.Popen(
        [exe, "--vpcd", "127.0.0.1:%d" % port, "--state",
         os.path.join(tmp, "card.state"), "--apdu-log",
         os.path.join(tmp, "apdu.log")] + list(extra),
        stdout=log, stderr=log)


def term(proc):
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc = None
    return rc, time.monotonic() - start


def options(exe):
    ok = subprocess.run([exe, "--help"], capture_output=True).returncode == 0
    report(ok, "--help exits 0")
    bad = [["--vpcd", "nohostport", "--state", "x"],
           ["--vpcd", "h:1", "--state", "x", "--version", "9.9"],
           ["--vpcd", "h:1", "--state", "x", "--latency-ms", "-1"],
           ["--state", "x"], ["--bogus"]]
    rcs = [subprocess.run([exe] + a, capture_output=True).returncode
           for a in bad]
    report(all(rc == 2 for rc in rcs), "bad options exit 2", str(rcs))


def session(exe, tmp):
    port = free_port()
    card = start_card(exe, tmp, port)
    time.sleep(0.5)  # the card is up before vpcd: it must retry
    vpcd = FakeVpcd(port)
    try:
        vpcd.accept(timeout=4)
        report(True, "connects once vpcd listens (retry with backoff)")
        limits = open("/proc/%d/limits" % card.pid).read()
        core = [ln for ln in limits.splitlines() if ln.startswith("Max core")]
        report(core and core[0].split()[4] == "0", "core dumps disabled",
               core[0] if core else "")
        vpcd.send(b"\x01")  # power on: no answer expected
        vpcd.send(b"\x04")
        atr = vpcd.recv()
        want = subprocess.run([exe, "--print-atr"], capture_output=True,
                              text=True).stdout.strip()
        report(atr.hex().upper() == want and len(atr) >= 2,
               "get ATR answers the card's ATR", atr.hex())
        vpcd.send(SELECT_OPENPGP)
        resp = vpcd.recv()
        report(resp[-2:] == b"\x90\x00", "SELECT OpenPGP -> 9000", resp.hex())
        vpcd.send(b"\x00" * 5000)
        resp = vpcd.recv()
        report(resp == b"\x67\x00", "5000-byte frame -> 6700", resp.hex())
        vpcd.send(SELECT_OPENPGP)
        resp = vpcd.recv()
        report(resp[-2:] == b"\x90\x00", "stream still in step afterwards")
        t0 = time.monotonic()
        for _ in range(20):
            vpcd.send(SELECT_OPENPGP)
            vpcd.recv()
        per = (time.monotonic() - t0) / 20 * 1000
        report(per < 20, "APDU round trip fast (no delayed ACK)", "%.2f ms" % per)
        vpcd.close()  # vpcd goes away: the card must come back
        vpcd.accept(timeout=4)
        vpcd.send(b"\x04")
        report(vpcd.recv() == atr, "reconnects after vpcd closed the connection")
        rc, took = term(card)  # blocked in recv
        report(rc == 0 and took < 2, "SIGTERM in recv: exit 0", "rc %s, %.2f s"
               % (rc, took))
        report(os.path.exists(os.path.join(tmp, "card.state")),
               "state file written")
        report(os.path.getsize(os.path.join(tmp, "apdu.log")) > 0,
               "APDU log written")
    except Exception as e:
        report(False, "session with fake vpcd", repr(e))
        card.kill()
        card.wait()
    finally:
        vpcd.shutdown()


def latency(exe, tmp):
    vpcd = FakeVpcd()
    card = start_card(exe, tmp, vpcd.port, "--latency-ms", "150")
    try:
        vpcd.accept()
        t0 = time.monotonic()
        vpcd.send(SELECT_OPENPGP)
        vpcd.recv()
        took = time.monotonic() - t0
        report(0.15 <= took < 1.0, "--latency-ms 150 delays a response",
               "%.3f s" % took)
    except Exception as e:
        report(False, "--latency-ms", repr(e))
    finally:
        term(card)
        vpcd.shutdown()


def term_while_waiting(exe, tmp):
    card = start_card(exe, tmp, free_port())  # nobody listens
    time.sleep(0.7)
    rc, took = term(card)
    report(rc == 0 and took < 1, "SIGTERM while waiting for vpcd: exit 0",
           "rc %s, %.2f s" % (rc, took))


def main():
    exe = os.path.join(os.path.abspath(sys.argv[1]), "tests", "vcard",
                       "dualscd-vcard")
    tmp = tempfile.mkdtemp(prefix="dualscd-vcard-main.")
    options(exe)
    session(exe, tmp)
    latency(exe, tmp)
    term_while_waiting(exe, tmp)
    print("1..%d" % len(results))
    if not all(results):
        with open(os.path.join(tmp, "card.stderr"), errors="replace") as f:
            for line in f.read().splitlines()[-20:]:
                print("# card: " + line)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# test-trace.py BUILD_DIR - the same Assuan script to GnuPG's scdaemon and to
# dualscd, against the same card state; the traces must match.
#
# The card is prepared once, in a first private world (tests/world/
# start.sh), through GnuPG's own scdaemon (RSA keys 1 and 2, an Ed25519 key
# 3, cardholder data objects), and its state file is saved; each daemon
# then runs in a world of its own whose card starts from a copy of that file
# (start.sh --card-state), so both meet exactly the same card: same keys,
# same signature counter, same PIN state.  Then SCRIPT below goes
# through `/usr/lib/gnupg/scdaemon --server` and `BUILD/agent/dualscd
# --server`, and each command's trace (status lines, data, inquiries, OK or
# the ERR code) is compared after the normalisations of DIFFERENCES.  Error
# texts are never compared, only codes.  One TAP line per command; any
# difference not listed in DIFFERENCES fails its line.
import difflib
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "assuan", os.path.join(HERE, "test-assuan.py"))
A = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(A)
check, Failed, Conn = A.check, A.Failed, A.Conn
GNUPG_SCDAEMON = "/usr/lib/gnupg/scdaemon"

# --- the documented, deliberate differences ---------------------------------
#
# Each entry: (command prefix, what differs, why).  The normaliser applied
# to both traces is in normalise() below, keyed by the same prefix; a
# difference outside this table fails the test.
DIFFERENCES = [
    ("*",
     "the greeting, the text after OK and the description after an ERR "
     "code are not compared",
     "free texts; gpg-agent acts on the codes only (GnuPG's own texts "
     "change between releases and locales)"),
    ("GETINFO version",
     "the version number (D line)",
     "dualscd reports the GnuPG protocol level it implements (2.4 series), "
     "GnuPG 2.2.40 its own version; only the x.y.z form is compared"),
    ("KEYINFO",
     "GnuPG 2.2 has no KEYINFO command (ERR unknown command); dualscd "
     "implements 2.4's",
     "issue 4 asks for the 2.4 additions; gpg-agent 2.2 never sends it"),
]

# --- the script -------------------------------------------------------------

ATTRS = ["SERIALNO", "KEY-FPR", "KEY-TIME", "CHV-STATUS", "SIG-COUNTER",
         "DISP-NAME", "PUBKEY-URL", "LOGIN-DATA", "EXTCAP", "KEY-ATTR",
         "CA-FPR", "$SIGNKEYID", "$ENCRKEYID", "$AUTHKEYID", "$DISPSERIALNO",
         "MANUFACTURER", "KDF", "UIF", "DISP-LANG", "DISP-SEX", "PRIVATE-DO-1",
         "PRIVATE-DO-2", "APPTYPE", "NO-SUCH-ATTR"]

SHA256_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def pin_answer(q):
    """The agent's answer: the PIN NUL-padded to 90 bytes."""
    pin = b"12345678" if "|A|" in q.split(" ", 1)[1][:8] else b"123456"
    return pin + b"\0" * (90 - len(pin))


def script(cryptogram):
    """(command line, inquiry callback or None) in order."""
    digest = hashlib.sha256(b"trace comparison").digest()
    s = [("GETINFO version", None), ("SERIALNO", None),
         ("LEARN --force", None), ("LEARN --force", None)]
    s += [("GETATTR " + a, None) for a in ATTRS]
    s += [("READKEY OPENPGP.%d" % k, None) for k in (1, 2, 3)]
    s += [("READKEY OPENPGP.9", None), ("READKEY bogus", None),
          ("KEYINFO --list", None),
          ("FROBNICATE", None), ("SETDATA 12zz", None), ("SETDATA 123", None),
          ("SERIALNO --bogus", None),
          # Data first: GnuPG checks for data before the key id.
          ("SETDATA " + (SHA256_INFO + digest).hex(), None),
          ("PKSIGN --hash=sha256 OPENPGP.7", None),
          ("PKSIGN --hash=sha256 12345", None),
          ("PKDECRYPT nonsense", None),
          ("PKAUTH OPENPGP.9", None),
          ("CHECKPIN", pin_answer),
          ("SETDATA " + (SHA256_INFO + digest).hex(), None),
          ("PKSIGN --hash=sha256 OPENPGP.1", pin_answer),
          ("SETDATA " + (SHA256_INFO + digest).hex(), None),
          ("PKSIGN --hash=sha256 OPENPGP.1", pin_answer),
          ("SETDATA " + digest.hex(), None),
          ("PKAUTH OPENPGP.3", pin_answer),
          ("SETDATA " + cryptogram[:200].hex(), None),
          ("SETDATA --append " + cryptogram[200:].hex(), None),
          ("PKDECRYPT OPENPGP.2", pin_answer),
          ("GETATTR SIG-COUNTER", None), ("GETATTR CHV-STATUS", None),
          ("RESTART", None), ("SERIALNO", None)]
    return s


# --- running a daemon -------------------------------------------------------


class Server:
    """PROGRAM --server with the world's environment."""

    def __init__(self, t, program, log):
        self.p = subprocess.Popen(
            [program, "--server"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=open(t.path(log), "ab"), env=t.env)
        self.conn = Conn(self.p.stdout, self.p.stdin)

    def stop(self):
        try:
            self.p.stdin.close()
            self.p.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()
            self.p.wait()


def trace_of(rep):
    """A reply as a comparable dict: status lines, data, the inquiries
    (prompts included), and OK or the ERR code (never the texts)."""
    inq = list(rep.inquiries)
    end = ("ERR", rep.err[0]) if rep.err else ("OK",)
    return {"status": list(rep.status), "data": rep.data, "inquiries": inq,
            "end": end}


def run_script(t, program, log, steps):
    srv = Server(t, program, log)
    traces = []
    try:
        for line, inq in steps:
            if line == "CHECKPIN":
                line = "CHECKPIN " + t.serialno
            traces.append(trace_of(srv.conn.cmd(line, inquire=inq)))
    finally:
        srv.stop()
    return traces


# --- preparing the card -----------------------------------------------------


def prepare(t):
    """Keys and data objects through GnuPG's own scdaemon; saves the state."""
    srv = Server(t, GNUPG_SCDAEMON, "prepare.log")
    c = srv.conn
    try:
        rep = c.cmd("SERIALNO")
        check(rep.err is None, "SERIALNO: %s" % (rep.err,))
        t.serialno = rep.status[0][1]
        cmds = ["GENKEY --force --timestamp=20240101T000000 1",
                "GENKEY --force --timestamp=20240101T000000 2",
                "SETATTR KEY-ATTR --force 3 22 ed25519",
                "GENKEY --force --timestamp=20240101T000000 3",
                "SETATTR DISP-NAME Doe<<John",
                "SETATTR LOGIN-DATA jdoe",
                "SETATTR PUBKEY-URL https://example.org/key.asc"]
        for line in cmds:
            rep = c.cmd(line, inquire=pin_answer)
            check(rep.err is None, "%s: ERR %s" % (line, rep.err))
        pk2 = c.cmd("READKEY OPENPGP.2").data
    finally:
        srv.stop()
    shutil.copyfile(t.path("card.state"), t.path("card.state.prepared"))
    # A PKCS#1 v1.5 cryptogram for key 2, made here once for both runs.
    n, e = A.sexp_int(pk2, b"n"), A.sexp_int(pk2, b"e")
    k = (n.bit_length() + 7) // 8
    t.secret = hashlib.sha256(b"session key").digest()
    pad = bytes(b % 255 + 1 for b in os.urandom(k - 3 - len(t.secret)))
    m = int.from_bytes(b"\0\2" + pad + b"\0" + t.secret, "big")
    t.cryptogram = pow(m, e, n).to_bytes(k, "big")
    return "serial %s, keys RSA/RSA/Ed25519" % t.serialno


# --- comparing --------------------------------------------------------------


def normalise(line, tr):
    """Apply the deliberate differences of DIFFERENCES to one trace."""
    tr = dict(tr)
    if line == "GETINFO version":
        check(re.fullmatch(rb"\d+\.\d+\.\d+", tr["data"]),
              "version %r" % tr["data"])
        tr["data"] = b"x.y.z"
    return tr


def show(tr):
    out = ["S %s %s" % kv for kv in tr["status"]]
    if tr["data"]:
        out.append("D %s" % tr["data"][:64].hex())
    out += ["INQUIRE %s" % q[:100] for q in tr["inquiries"]]
    out.append(" ".join(str(x) for x in tr["end"]))
    return out


def compare(t, line, g, d):
    if line.startswith("KEYINFO"):
        # GnuPG 2.2: unknown command; dualscd: the 2.4 answer.
        check(g["end"] == ("ERR", 100663571), "GnuPG 2.2 KEYINFO %s" % (g,))
        check(d["end"] == ("OK",), "dualscd KEYINFO %s" % (d["end"],))
        return "deliberate: GnuPG 2.2 has no KEYINFO"
    g, d = normalise(line, g), normalise(line, d)
    if g != d:
        diff = difflib.unified_diff(show(g), show(d), "GnuPG", "dualscd",
                                    lineterm="", n=1)
        raise Failed("\n".join(x.replace("\x1e", "").replace("\x1f", "")
                               for x in diff))
    if line.startswith("PKDECRYPT OPENPGP"):
        check(g["data"].endswith(t.secret), "decryption gave the wrong key")
    return "%d status, %d data bytes, %s" % (
        len(g["status"]), len(g["data"]), " ".join(str(x) for x in g["end"]))


def main():
    if len(sys.argv) != 2:
        print("usage: test-trace.py BUILD_DIR", file=sys.stderr)
        return 2
    try:
        t = A.Test(sys.argv[1])
    except Exception as e:
        print("1..1\nnot ok 1 - start the world\n# %s" % e)
        return 1
    t.step("prepare the card through GnuPG's scdaemon", prepare, t)
    results = {}
    if t.failed == 0:
        steps = script(t.cryptogram)
        for name, prog in (("gnupg", GNUPG_SCDAEMON), ("dualscd", t.dualscd)):
            def run(name=name, prog=prog):
                # Each daemon gets a world of its own whose card starts from
                # the prepared state: no card restart inside one world
                # (vpcd then sometimes never sees the card come back).
                w = A.Test(t.build, ["--card-state",
                                     t.path("card.state.prepared")])
                for k in ("serialno", "secret", "cryptogram"):
                    setattr(w, k, getattr(t, k))
                try:
                    results[name] = run_script(w, prog, name + ".log", steps)
                finally:
                    rc, out = w.stop()
                    if rc == 0:
                        shutil.rmtree(w.dir, ignore_errors=True)
                check(rc == 0, "stopping %s's world: %s" % (name, out))
                return "%d commands" % len(results[name])
            t.step("script through " + name, run)
    if len(results) == 2:
        for (line, _), g, d in zip(steps, results["gnupg"], results["dualscd"]):
            t.step(line if len(line) < 60 else line[:57] + "...",
                   compare, t, line, g, d)
    rc, out = t.stop()
    t.n += 1
    print("%s %d - stop the world" % ("ok" if rc == 0 else "not ok", t.n))
    if rc:
        t.failed += 1
        print("\n".join("#   " + x for x in out.splitlines()))
    print("1..%d" % t.n)
    if t.failed == 0:
        shutil.rmtree(t.dir, ignore_errors=True)
    else:
        print("# world kept in %s" % t.dir)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())

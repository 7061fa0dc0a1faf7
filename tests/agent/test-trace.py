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
#
# With GnuPG 2.4's scdaemon (the trixie suite runs this file inside a
# Debian 13 chroot) the script grows by the commands gpg-agent 2.4, gpg 2.4
# and gpg-card send (SCRIPT_24) and the differences are those of
# DIFFERENCES_24; the GnuPG version is read from the scdaemon itself, so
# the 2.2.40 run is unchanged.
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
    ("LEARN, READKEY --info",
     "dualscd's KEYPAIRINFO has GnuPG 2.4's two more fields (creation time, "
     "algorithm), its LEARN 2.4's APPVERSION and UIF-1..3 lines",
     "one format for both client generations: 2.2.40's gpg-agent ignores "
     "what follows the key id (agent/learncard.c kpinfo_cb), its gpg reads "
     "only grip and key id (g10/call-agent.c) and skips unknown status "
     "lines; gpg-card 2.4 shows the algorithm from these fields"),
    ("GETATTR UIF",
     "GnuPG 2.2 does not know the name (ERR Invalid name); dualscd answers "
     "UIF-1..3 as GnuPG 2.4 does",
     "the 2.4 attribute; 2.2 clients never ask for it"),
]

# GnuPG 2.4.7: the deliberate differences (same form as DIFFERENCES).
DIFFERENCES_24 = [
    ("*",
     "the greeting, the text after OK and the description after an ERR "
     "code are not compared",
     "free texts; gpg-agent acts on the codes only"),
    ("GETINFO version",
     "the version number (D line); only the x.y.z form is compared",
     "dualscd reports its own GnuPG protocol level"),
    ("*",
     "GnuPG's 'S PINCACHE_PUT <slot>//' lines (clear the agent's PIN cache "
     "for a reader slot) are dropped",
     "GnuPG sends them for the second, empty vpcd slot it scans "
     "(scd/app.c select_application); dualscd keeps no PIN in gpg-agent's "
     "cache, so it has nothing to clear"),
    ("LEARN",
     "GnuPG's 'S CARDTYPE zeitcontrol' is dropped",
     "GnuPG guesses the vendor from the ATR for its vendor quirks "
     "(scd/app.c: length 21, byte 7 = 0x75); dualscd has no vendor quirks "
     "and does not guess"),
    ("GETINFO app_list",
     "only the 'openpgp:' entry is compared",
     "GnuPG lists every application it has code for (piv, nks, p15 ...); "
     "dualscd has the OpenPGP application only, and says what it is"),
    ("GETINFO cmd_has_option READKEY format",
     "GnuPG says no (ERR False), dualscd OK",
     "GnuPG 2.4 hard-codes SERIALNO --all as the only option it admits "
     "(scd/command.c command_has_option); dualscd answers from its command "
     "table, and it does implement READKEY --format=ssh"),
    ("WRITEKEY --force OPENPGP.1 (RSA slot, Ed25519 key)",
     "GnuPG asks for the Admin PIN twice, dualscd once",
     "GnuPG verifies PW3 again after changing the key attributes "
     "(app-openpgp.c change_keyattr then the import); the card still holds "
     "the verification, dualscd keeps it"),
    ("PKSIGN --hash=none <grip of the Ed25519 key 3>",
     "GnuPG fails (ERR Unsupported algorithm); dualscd signs, and the "
     "signature must equal the PKAUTH one of the same data just before",
     "GnuPG forces a DigestInfo on any key-3 signature "
     "(app-openpgp.c do_sign, use_auth), which an EdDSA key cannot take; "
     "dualscd signs with INTERNAL AUTHENTICATE as PKAUTH does"),
]


def gnupg_version():
    """(major, minor) of GnuPG's scdaemon, e.g. (2, 4)."""
    out = subprocess.run([GNUPG_SCDAEMON, "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, check=False)
    m = re.search(r"(\d+)\.(\d+)\.\d+", out.stdout)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


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


# RFC 8032 section 7.1, test 1: a fixed Ed25519 key, so that both daemons
# import the same key and their (deterministic) signatures must be equal.
ED25519_D = bytes.fromhex(
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
ED25519_Q = bytes.fromhex(
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


def canon(*items):
    """A canonical S-expression from nested tuples of bytes."""
    out = b"("
    for x in items:
        out += canon(*x) if isinstance(x, tuple) else b"%d:%s" % (len(x), x)
    return out + b")"


def keydata_answer(q):
    """WRITEKEY's KEYDATA: the key as gpg-agent's KEYTOCARD sends it."""
    if q.startswith("KEYDATA"):
        return assuan_escape(canon(b"private-key", (b"ecc", (b"curve", b"Ed25519"),
                                      (b"flags", b"eddsa"),
                                      (b"q", b"\x40" + ED25519_Q),
                                      (b"d", ED25519_D)),
                     (b"created-at", b"1704067200")))
    return pin_answer(q)


def assuan_escape(data):
    """Bytes for one D line: %, CR and LF percent-escaped."""
    for c in b"%\r\n":
        data = data.replace(bytes([c]), b"%%%02X" % c)
    return data


def eddsa_tail():
    """An Ed25519 signing key (the fixed one, imported) and what signs with
    it: PKSIGN --hash=none with the raw data (PureEdDSA) and PKSIGN
    --hash=sha512 with a digest (what gpg-agent 2.4.7 sends for gpg)."""
    msg = hashlib.sha256(b"eddsa message").digest()
    digest = hashlib.sha512(b"eddsa message").digest()
    return [("WRITEKEY --force OPENPGP.1", keydata_answer),
            ("READKEY OPENPGP.1", None), ("KEYINFO --list=sign", None),
            ("GETATTR KEY-ATTR", None),
            ("SETDATA " + msg.hex(), None),
            ("PKSIGN --hash=none OPENPGP.1", pin_answer),
            ("SETDATA " + digest.hex(), None),
            ("PKSIGN --hash=sha512 OPENPGP.1", pin_answer),
            ("LEARN --force", None)]


def script_24(t, cryptogram):
    """What gpg-agent 2.4, gpg 2.4 and gpg-card send (issue 7), then the
    2.2 script.  The first command meets a daemon that has not opened the
    card yet (the agent's first KEYINFO --list)."""
    digest = hashlib.sha256(b"trace comparison").digest()
    g1, g2, g3 = (t.grips[k] for k in (1, 2, 3))
    s = [("KEYINFO --list", None),
         ("GETINFO version", None), ("SERIALNO", None),
         ("LEARN --force", None), ("GETATTR KEY-ATTR", None),
         ("KEYINFO --list", None), ("SERIALNO --all", None),
         ("KEYINFO " + g1, None), ("KEYINFO --list=encr", None),
         ("KEYINFO --list=auth", None), ("KEYINFO --list=sign", None),
         ("KEYINFO --data " + g2, None),
         ("KEYINFO " + "0" * 40, None),
         ("GETATTR $DISPSERIALNO", None), ("GETATTR KEY-LABEL", None),
         ("GETATTR KEY-ATTR " + g1, None), ("GETATTR UIF", None),
         ("GETATTR APPVERSION", None),
         ("GETINFO all_active_apps", None), ("GETINFO active_apps", None),
         ("GETINFO card_list", None), ("GETINFO app_list", None),
         ("GETINFO cmd_has_option SERIALNO all", None),
         ("GETINFO cmd_has_option READKEY format", None),
         ("SWITCHAPP", None), ("SWITCHAPP -- openpgp", None),
         ("SWITCHAPP -- piv", None),
         ("READKEY OPENPGP.1", None), ("READKEY -- OPENPGP.2", None),
         ("READKEY --info OPENPGP.1", None),
         ("READKEY --info-only -- " + g3, None),
         ("READKEY --format=ssh OPENPGP.3", None),
         ("READKEY --format=ssh " + g1, None),
         ("READKEY -- " + g3, None),
         ("SETDATA " + (SHA256_INFO + digest).hex(), None),
         ("PKSIGN --hash=sha256 " + g1, pin_answer),
         ("SETDATA " + digest.hex(), None),
         ("PKAUTH " + g3, pin_answer),
         ("SETDATA " + digest.hex(), None),
         ("PKSIGN --hash=none " + g3, pin_answer),
         ("SETDATA " + cryptogram[:200].hex(), None),
         ("SETDATA --append " + cryptogram[200:].hex(), None),
         ("PKDECRYPT " + g2, pin_answer),
         ("SERIALNO openpgp", None)]
    return s + script(cryptogram) + eddsa_tail()


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
        # GnuPG 2.4 may send PINCACHE_PUT first.
        t.serialno = dict(rep.status)["SERIALNO"]
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
        if t.gnupg >= (2, 4):
            rep = c.cmd("LEARN --force")
            t.grips = {int(v.split()[1][8:]): v.split()[0]
                       for k, v in rep.status if k == "KEYPAIRINFO"}
            check(sorted(t.grips) == [1, 2, 3], "keygrips %s" % t.grips)
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


def keep_status(tr, drop):
    tr = dict(tr)
    tr["status"] = [kv for kv in tr["status"] if not drop(*kv)]
    return tr


def normalise_22(line, g, d):
    """DIFFERENCES against GnuPG 2.2: dualscd's 2.4 additions go."""
    d = keep_status(d, lambda k, v: k == "APPVERSION" or k.startswith("UIF-"))
    d["status"] = [(k, " ".join(v.split(" ")[:3]) if k == "KEYPAIRINFO" else v)
                   for k, v in d["status"]]
    if line == "GETATTR UIF":
        check(g["end"] == ("ERR", 100663384), "GnuPG 2.2 GETATTR UIF %s" % (g,))
        check(d["end"] == ("OK",), "dualscd GETATTR UIF %s" % (d["end"],))
        d = g
    return g, d


def normalise_24(t, line, g, d):
    """DIFFERENCES_24: what GnuPG 2.4 says that dualscd deliberately does
    not (or says otherwise)."""
    g = keep_status(g, lambda k, v: k == "CARDTYPE" or (
        k == "PINCACHE_PUT" and re.fullmatch(r"\d+//\s*", v)))
    if line == "GETINFO app_list":
        for tr in (g, d):
            check(tr["data"].startswith(b"openpgp:"), "app_list %r" % tr["data"])
            tr["data"] = b"openpgp:"
    elif line == "GETINFO cmd_has_option READKEY format":
        check(g["end"] == ("ERR", 100663552) and d["end"] == ("OK",),
              "cmd_has_option: GnuPG %s, dualscd %s" % (g["end"], d["end"]))
        d = g
    elif line.startswith("WRITEKEY"):
        want = d["inquiries"] + d["inquiries"][-1:]
        check(g["inquiries"] == want, "WRITEKEY prompts: GnuPG %s, dualscd %s"
              % (g["inquiries"], d["inquiries"]))
        d = g
    elif line == "PKSIGN --hash=none " + t.grips[3]:
        check(g["end"] == ("ERR", 100663380), "GnuPG %s" % (g["end"],))
        check(d["end"] == ("OK",) and d["data"] == t.auth_sig,
              "dualscd's EdDSA signature by key 3 differs from its PKAUTH")
        d = g
    return g, d


def show(tr):
    out = ["S %s %s" % kv for kv in tr["status"]]
    if tr["data"]:
        out.append("D %s" % tr["data"][:64].hex())
    out += ["INQUIRE %s" % q[:100] for q in tr["inquiries"]]
    out.append(" ".join(str(x) for x in tr["end"]))
    return out


def compare(t, line, g, d):
    if line.startswith("KEYINFO") and t.gnupg < (2, 4):
        # GnuPG 2.2: unknown command; dualscd: the 2.4 answer.
        check(g["end"] == ("ERR", 100663571), "GnuPG 2.2 KEYINFO %s" % (g,))
        check(d["end"] == ("OK",), "dualscd KEYINFO %s" % (d["end"],))
        return "deliberate: GnuPG 2.2 has no KEYINFO"
    g, d = normalise(line, g), normalise(line, d)
    if t.gnupg >= (2, 4):
        g, d = normalise_24(t, line, g, d)
        if line == "PKAUTH " + t.grips[3]:
            t.auth_sig = d["data"]
    else:
        g, d = normalise_22(line, g, d)
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
    t.gnupg, t.grips = gnupg_version(), {}
    print("# GnuPG's scdaemon: %d.%d" % t.gnupg)
    t.step("prepare the card through GnuPG's scdaemon", prepare, t)
    results = {}
    if t.failed == 0:
        steps = (script_24(t, t.cryptogram) if t.gnupg >= (2, 4)
                 else script(t.cryptogram))
        for name, prog in (("gnupg", GNUPG_SCDAEMON), ("dualscd", t.dualscd)):
            def run(name=name, prog=prog):
                # Each daemon gets a world of its own whose card starts from
                # the prepared state: no card restart inside one world
                # (vpcd then sometimes never sees the card come back).
                w = A.Test(t.build, ["--card-state",
                                     t.path("card.state.prepared")])
                for k in ("serialno", "secret", "cryptogram", "gnupg",
                          "grips"):
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

#!/usr/bin/python3
# test-assuan.py BUILD_DIR - dualscd's Assuan server against the test world.
#
# Starts a private world (tests/world/start.sh, as root) whose gpg-agent
# uses BUILD_DIR/agent/dualscd, then drives dualscd directly over its pipe
# and socket sessions (greeting, GETINFO, SERIALNO, LEARN, READKEY, GETATTR,
# malformed input, LOCK across sessions, KILLSCD, EOF) and finally through
# the real gpg-agent and gpg (--card-status, cold and warm, counting the
# card's APDUs).  One TAP line per step; a failed step does not stop the run.
import os
import hashlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
WORLD = os.path.join(os.path.dirname(HERE), "world")
NEIGHBOUR_PY = os.path.join(os.path.dirname(HERE), "pcsc", "neighbour.py")

# gpg-error values with source SCD (6 << 24).
ERR_UNKNOWN_CMD = 100663571  # GPG_ERR_ASS_UNKNOWN_CMD
ERR_INV_DATA = 100663375
ERR_TOO_LARGE = 100663363
ERR_INV_ID = 100663414
ERR_LOCKED = 100663469
ERR_ASS_PARAMETER = 100663576
ERR_NO_SECKEY = 100663313
ERR_LINE_TOO_LONG = 100663559  # GPG_ERR_ASS_LINE_TOO_LONG


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


class Reply:
    def __init__(self):
        self.status = []  # (keyword, args)
        self.data = b""
        self.ok = None  # text after OK, or None
        self.err = None  # (code, text)
        self.inquiries = []

    def keywords(self):
        return [k for k, _ in self.status]


def unescape(s):
    return re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), s)


class Conn:
    """An Assuan client on a pair of binary streams."""

    def __init__(self, rfile, wfile):
        self.r, self.w = rfile, wfile
        self.greeting = self.r.readline()

    def cmd(self, line, inquire=None):
        self.w.write(line.encode() + b"\n")
        self.w.flush()
        return self.read_reply(inquire)

    def read_reply(self, inquire=None):
        rep = Reply()
        while True:
            raw = self.r.readline()
            if not raw:
                raise Failed("connection closed (EOF) in the middle of a reply")
            raw = raw.rstrip(b"\n")
            if raw.startswith(b"S "):
                parts = raw[2:].split(b" ", 1)
                rep.status.append((parts[0].decode(),
                                   parts[1].decode(errors="replace")
                                   if len(parts) > 1 else ""))
            elif raw.startswith(b"D "):
                rep.data += unescape(raw[2:])
            elif raw == b"OK" or raw.startswith(b"OK "):
                rep.ok = raw[3:].decode()
                return rep
            elif raw.startswith(b"ERR "):
                parts = raw[4:].split(b" ", 1)
                rep.err = (int(parts[0]), parts[1].decode(errors="replace")
                           if len(parts) > 1 else "")
                return rep
            elif raw.startswith(b"INQUIRE "):
                rep.inquiries.append(raw[8:].decode(errors="replace"))
                answer = inquire(raw[8:].decode()) if inquire else None
                if answer is None:
                    self.w.write(b"CAN\n")
                else:
                    self.w.write(b"D " + answer + b"\nEND\n")
                self.w.flush()
            elif raw.startswith(b"#"):
                continue
            else:
                raise Failed("unexpected line %r" % raw)


def expect_ok(rep, what):
    check(rep.err is None, "%s: ERR %s" % (what, rep.err))


def expect_err(rep, code, what):
    check(rep.err is not None, "%s: OK where ERR %d was expected" % (what, code))
    check(rep.err[0] == code, "%s: ERR %d (%s), want %d" % (
        what, rep.err[0], rep.err[1], code))
    check(rep.err[1].strip(), "%s: ERR without a description" % what)


class Daemon:
    """dualscd --multi-server (or --server) with the world's environment."""

    def __init__(self, t, mode="--multi-server", args=()):
        self.p = subprocess.Popen(
            [t.dualscd, mode] + list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(t.path("dualscd-%d.log" % t.n), "ab"), env=t.env)
        self.conn = Conn(self.p.stdout, self.p.stdin)

    def socket(self, path):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(20)
        s.connect(path)
        f = s.makefile("rwb")
        c = Conn(f, f)
        c.sock = s
        return c

    def stop(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
            except OSError:
                pass
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


class Test:
    def __init__(self, build, start_args=()):
        self.build = os.path.abspath(build)
        self.dualscd = os.path.join(self.build, "agent", "dualscd")
        self.n = 0
        self.failed = 0
        self.dir = tempfile.mkdtemp(prefix="dualscd-agent.")
        out = subprocess.run(
            [os.path.join(WORLD, "start.sh"), "--scdaemon", self.dualscd]
            + list(start_args) + [self.build, self.dir],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        if out.returncode:
            raise Failed("start.sh failed: " + out.stderr.strip())
        self.env = dict(os.environ)
        for line in out.stdout.splitlines():
            m = re.match(r"export (\w+)=(.*)$", line)
            if m:
                self.env[m.group(1)] = m.group(2).strip("'")
        for var in ("GPG_AGENT_INFO", "SSH_AUTH_SOCK"):
            self.env.pop(var, None)
        self.env["LC_ALL"] = "C"

    def path(self, name):
        return os.path.join(self.dir, name)

    def step(self, name, fn, *args):
        self.n += 1
        try:
            note = fn(*args)
            print("ok %d - %s%s" % (self.n, name, " # " + note if note else ""))
        except Exception as e:  # every failure is reported, the run goes on
            self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            text = str(e) if isinstance(e, Failed) else traceback.format_exc()
            for line in text.splitlines():
                print("#   " + line)
        sys.stdout.flush()

    def finish(self):
        """Stops the world as the last TAP step, prints the plan, and
        returns the exit status; the world is kept when anything failed."""
        self.n += 1
        rc, out = self.stop()
        if rc:
            self.failed += 1
            print("not ok %d - world stops cleanly\n# %s"
                  % (self.n, out.replace("\n", "\n# ")))
        else:
            print("ok %d - world stops cleanly" % self.n)
            shutil.rmtree(self.dir, ignore_errors=True)
        print("1..%d" % self.n)
        return 1 if self.failed else 0

    def apdus(self):
        with open(self.env["DUALSCD_WORLD_APDU_LOG"], errors="replace") as f:
            return [x for x in f if x.startswith("vcard:")]

    def stop(self):
        out = subprocess.run([os.path.join(WORLD, "stop.sh"), self.dir],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, timeout=60)
        return out.returncode, out.stdout


# --- steps ------------------------------------------------------------------


def greeting_and_getinfo(t, d):
    c = d.conn
    check(c.greeting.startswith(b"OK "), "greeting %r" % c.greeting)
    rep = c.cmd("GETINFO version")
    expect_ok(rep, "GETINFO version")
    check(re.fullmatch(rb"\d+\.\d+\.\d+", rep.data), "version %r" % rep.data)
    rep = c.cmd("GETINFO socket_name")
    expect_ok(rep, "GETINFO socket_name")
    path = rep.data.decode()
    check(os.path.exists(path) and not os.path.isfile(path), "no socket %s" % path)
    mode = os.stat(os.path.dirname(path)).st_mode & 0o777
    t.socket_name = path
    rep = c.cmd("GETINFO pid")
    check(rep.data == str(d.p.pid).encode(), "pid %r, want %d" % (rep.data, d.p.pid))
    # The pipe session's agent is this test: card events arrive here.
    expect_ok(c.cmd("OPTION event-signal=%d" % signal.SIGUSR2), "OPTION event-signal")
    expect_ok(c.cmd("GETINFO cmd_has_option SERIALNO all"), "cmd_has_option")
    check(c.cmd("GETINFO cmd_has_option SERIALNO bogus").err, "bogus option known")
    return "socket %s (dir mode %o)" % (path, mode)


def serialno_learn(t, d):
    c = d.conn
    rep = c.cmd("SERIALNO")
    expect_ok(rep, "SERIALNO")
    check(rep.status and rep.status[0][0] == "SERIALNO"
          and re.fullmatch(r"D27600012401[0-9A-F]{20}", rep.status[0][1]),
          "SERIALNO status %s" % rep.status)
    t.serialno = rep.status[0][1]
    expect_ok(c.cmd("SERIALNO --demand=" + t.serialno), "SERIALNO --demand")
    rep = c.cmd("LEARN --force")
    expect_ok(rep, "LEARN --force")
    kws = rep.keywords()
    want = ["READER", "SERIALNO", "APPTYPE", "EXTCAP", "MANUFACTURER",
            "CHV-STATUS", "SIG-COUNTER"]
    pos = [kws.index(k) if k in kws else -1 for k in want]
    check(-1 not in pos and pos == sorted(pos), "LEARN lines %s" % kws)
    check(dict(rep.status)["APPTYPE"].lower() == "openpgp", "APPTYPE")
    rep2 = c.cmd("LEARN --keypairinfo")
    expect_ok(rep2, "LEARN --keypairinfo")
    check(all(k == "KEYPAIRINFO" for k in rep2.keywords()),
          "LEARN --keypairinfo lines %s" % rep2.keywords())
    return "%d status lines" % len(kws)


def getattr_readkey(t, d):
    c = d.conn
    rep = c.cmd("GETATTR KEY-ATTR")
    expect_ok(rep, "GETATTR KEY-ATTR")
    attrs = [a for k, a in rep.status if k == "KEY-ATTR"]
    check(len(attrs) == 3 and all(re.match(r"[123] \d+ ", a) for a in attrs),
          "KEY-ATTR lines %s" % attrs)
    rep = c.cmd("READKEY OPENPGP.1")
    if rep.err:
        expect_err(rep, ERR_NO_SECKEY, "READKEY of an empty slot")
        return "slot 1 empty: ERR NO_SECKEY"
    check(rep.data.startswith(b"(10:public-key"), "READKEY data %r" % rep.data[:40])
    return "%d bytes of public key" % len(rep.data)


def malformed(t, d):
    c = d.conn
    expect_err(c.cmd("FROBNICATE"), ERR_UNKNOWN_CMD, "unknown command")
    expect_err(c.cmd("SETDATA 12zz"), ERR_ASS_PARAMETER, "bad hex")
    expect_err(c.cmd("SETDATA 123"), ERR_ASS_PARAMETER, "odd hex")
    # Unknown options are ignored, as GnuPG's scdaemon ignores them.
    expect_ok(c.cmd("SERIALNO --bogus"), "SERIALNO with an unknown option")
    chunk = "AB" * 400
    expect_ok(c.cmd("SETDATA " + chunk), "SETDATA 400 bytes")
    for _ in range(11):
        rep = c.cmd("SETDATA --append " + chunk)
        if rep.err:
            break
    expect_err(rep, ERR_TOO_LARGE, "SETDATA past 4096 bytes")
    expect_ok(c.cmd("SETDATA " + "00" * 32), "SETDATA after the error")
    expect_err(c.cmd("PKSIGN --hash=sha256 OPENPGP.7"), ERR_INV_ID, "bad key id")
    expect_err(c.cmd("PKSIGN --hash=sha256 12345"), ERR_INV_ID, "short keygrip")
    expect_err(c.cmd("PKDECRYPT nonsense"), ERR_INV_ID, "PKDECRYPT bad id")
    rep = c.cmd("GETATTR NO-SUCH-ATTR")
    check(rep.err, "GETATTR NO-SUCH-ATTR gave OK")
    expect_ok(c.cmd("GETINFO version"), "session alive after the errors")


def overlong_line(t, d):
    """libassuan cannot skip the rest of a line past 1000 bytes, so the
    session ends, but with an ERR that says why; the daemon goes on."""
    s = d.socket(t.socket_name)
    rep = s.cmd("GETINFO " + "x" * 2000)
    expect_err(rep, ERR_LINE_TOO_LONG, "overlong line")
    try:
        rest = s.r.readline()
    except ConnectionResetError:  # the unread tail of the line was dropped
        rest = b""
    check(rest == b"", "session not closed after the overlong line: %r" % rest)
    s.sock.close()
    expect_ok(d.conn.cmd("GETINFO version"), "pipe session alive")
    return "ERR %d %s" % rep.err


def pins_and_raw(t, d):
    """NEEDPIN (90-byte NUL-padded answer), RANDOM, APDU, SETATTR."""
    c = d.conn
    bad = c.cmd("CHECKPIN " + t.serialno, inquire=lambda q: b"123456")
    expect_err(bad, 100663372, "NEEDPIN answer without a final NUL")
    rep = c.cmd("CHECKPIN " + t.serialno, inquire=lambda q: b"123456" + b"\0" * 84)
    expect_ok(rep, "CHECKPIN with the 90-byte answer")
    check(rep.inquiries and rep.inquiries[0].startswith("NEEDPIN ||"),
          "NEEDPIN prompt %s" % rep.inquiries)
    rep = c.cmd("RANDOM 16")
    expect_ok(rep, "RANDOM 16")
    check(len(rep.data) == 16, "RANDOM gave %d bytes" % len(rep.data))
    expect_err(c.cmd("RANDOM 0"), 100663576, "RANDOM 0")
    rep = c.cmd("APDU --atr 00CA006E00")
    expect_ok(rep, "APDU")
    check(rep.status and rep.status[0][0] == "CARD-ATR", "no CARD-ATR")
    check(rep.data[-2:] == b"\x90\x00", "APDU SW %s" % rep.data[-2:].hex())
    expect_err(c.cmd("APDU 00CA"), ERR_INV_DATA, "3-byte APDU")
    rep = c.cmd("SETATTR DISP-NAME Doe<<John+%25",
                inquire=lambda q: b"12345678" + b"\0" * 82)
    expect_ok(rep, "SETATTR DISP-NAME")
    rep = c.cmd("GETATTR DISP-NAME")
    check(rep.status == [("DISP-NAME", "Doe<<John %25")] or
          rep.status == [("DISP-NAME", "Doe<<John+%25")],
          "DISP-NAME read back %s" % rep.status)
    expect_ok(c.cmd("RESTART"), "RESTART")


NEIGHBOUR = r"""
import sys
from smartcard.scard import *
rc, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
assert rc == 0, rc
rc, readers = SCardListReaders(ctx, [])
reader = [r for r in readers if r.startswith(sys.argv[1])][0]
rc, card, proto = SCardConnect(ctx, reader, SCARD_SHARE_SHARED,
                               SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1)
assert rc == 0, "connect: %x" % (rc & 0xffffffff)
rc, resp = SCardTransmit(card, proto, [0, 0xA4, 4, 0, 6, 0xD2, 0x76, 0, 1, 0x24, 1])
assert rc == 0 and resp[-2:] == [0x90, 0], (rc, resp)
rc = SCardDisconnect(card, SCARD_RESET_CARD if sys.argv[2] == "reset" else SCARD_LEAVE_CARD)
assert rc == 0, rc
print("ok")
"""


def neighbour(t, d):
    """Another PC/SC program uses the card between our commands, once
    leaving it as it was and once resetting it (PIN state gone): dualscd
    goes on working both times, without a new SERIALNO."""
    c = d.conn
    reader = t.env["DUALSCD_WORLD_READER"]
    notes = []
    for how in ("leave", "reset"):
        expect_ok(c.cmd("SERIALNO"), "SERIALNO")
        out = subprocess.run(["/usr/bin/python3", "-c", NEIGHBOUR, reader, how],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=t.env, timeout=30)
        check(out.stdout.strip() == b"ok", "neighbour (%s) failed: %s" % (
            how, out.stderr.decode()[-400:]))
        expect_ok(c.cmd("LEARN --force"), "LEARN after the neighbour (%s)" % how)
        rep = c.cmd("GETATTR KEY-ATTR")
        expect_ok(rep, "GETATTR after the neighbour (%s)" % how)
        rep = c.cmd("CHECKPIN " + t.serialno,
                    inquire=lambda q: b"123456" + b"\0" * 84)
        expect_ok(rep, "CHECKPIN after the neighbour (%s)" % how)
        notes.append("%s: %d PIN prompt(s)" % (how, len(rep.inquiries)))
    return ", ".join(notes)


GPG_ERR_ENODEV = 32848  # GPG_ERR_SYSTEM_ERROR | libgpg-error's ENODEV index
SCD = 6 << 24  # GPG_ERR_SOURCE_SCD


def daemon_with(t, name, conf):
    """A --server dualscd reading only the options file CONF (text)."""
    path = t.path(name)
    with open(path, "w") as f:
        f.write(conf)
    return Daemon(t, "--server", ["--options", path])


def reader_port(t):
    """reader-port takes a prefix of the reader's name, as GnuPG's does;
    a prefix no reader has gives "No such device", not another reader."""
    reader = t.env["DUALSCD_WORLD_READER"]
    d = daemon_with(t, "port-ok.conf", "reader-port %s\n" % reader[:8])
    try:
        rep = d.conn.cmd("SERIALNO")
        expect_ok(rep, "SERIALNO with reader-port %r" % reader[:8])
        check(rep.status[0][1] == t.serialno, "another card: %r" % rep.status)
    finally:
        d.stop()
    d = daemon_with(t, "port-none.conf", "reader-port NoSuchReader\n")
    try:
        expect_err(d.conn.cmd("SERIALNO"), SCD | GPG_ERR_ENODEV,
                   "SERIALNO with a reader-port no reader has")
    finally:
        d.stop()


def pcsc_exclusive(t):
    """pcsc-exclusive: while dualscd is connected no other PC/SC program
    gets the card (GnuPG's old behaviour); after DISCONNECT it does."""
    def neighbour_select():
        out = subprocess.run(["/usr/bin/python3", NEIGHBOUR_PY, "select"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=t.env, timeout=30)
        return out.stdout.decode().strip()

    # The agent's own dualscd (earlier steps) holds a shared handle; it
    # lets go on DISCONNECT and reconnects by itself at the next command.
    subprocess.run(["gpg-connect-agent", "--no-autostart", "SCD DISCONNECT", "/bye"],
                   stdout=subprocess.DEVNULL, env=t.env, timeout=30)
    d = daemon_with(t, "exclusive.conf", "pcsc-exclusive\n")
    try:
        expect_ok(d.conn.cmd("SERIALNO"), "SERIALNO with pcsc-exclusive")
        got = neighbour_select()
        check("SHARING_VIOLATION" in got,
              "a neighbour got the card while dualscd holds it exclusively: %r" % got)
        expect_ok(d.conn.cmd("DISCONNECT"), "DISCONNECT")
        got = neighbour_select()
        check(got.endswith("9000"), "neighbour after DISCONNECT: %r" % got)
        expect_ok(d.conn.cmd("SERIALNO"), "SERIALNO again after the neighbour")
    finally:
        d.stop()
    return "neighbour refused, then served after DISCONNECT"


def sexp_int(sexp, name):
    """The value of (NAME <bytes>) in a canonical S-expression, as int."""
    tag = b"%d:%s" % (len(name), name)
    i = sexp.index(tag) + len(tag)
    colon = sexp.index(b":", i)
    n = int(sexp[i:colon])
    return int.from_bytes(sexp[colon + 1:colon + 1 + n], "big")


def pin_answer(q):
    pin = b"12345678" if q.startswith("NEEDPIN |A|") else b"123456"
    return pin + b"\0" * (90 - len(pin))


def keys_sign_decrypt(t, d):
    """GENKEY 1 and 2, READKEY, KEYINFO, PKSIGN (signature checked against
    the public key) and PKDECRYPT (PKCS#1 v1.5 cryptogram made here)."""
    c = d.conn
    for slot in (1, 2):
        rep = c.cmd("GENKEY --force --timestamp=20240101T000000 %d" % slot,
                    inquire=pin_answer)
        expect_ok(rep, "GENKEY %d" % slot)
        check("KEY-FPR" in rep.keywords(), "GENKEY lines %s" % rep.keywords())
    pk1 = c.cmd("READKEY OPENPGP.1").data
    n, e = sexp_int(pk1, b"n"), sexp_int(pk1, b"e")
    rep = c.cmd("KEYINFO --list")
    grips = [a.split()[0] for k, a in rep.status if k == "KEYINFO"]
    check(len(grips) == 2, "KEYINFO --list %s" % rep.status)
    digest = hashlib.sha256(b"dualscd").digest()
    info = bytes.fromhex("3031300d060960864801650304020105000420") + digest
    expect_ok(c.cmd("SETDATA " + info.hex()), "SETDATA")
    rep = c.cmd("PKSIGN --hash=sha256 " + grips[0], inquire=pin_answer)
    expect_ok(rep, "PKSIGN by keygrip")
    k = (n.bit_length() + 7) // 8
    em = pow(int.from_bytes(rep.data, "big"), e, n).to_bytes(k, "big")
    check(em == b"\0\1" + b"\xff" * (k - 3 - len(info)) + b"\0" + info,
          "the signature does not verify")
    pk2 = c.cmd("READKEY OPENPGP.2").data
    n2, e2 = sexp_int(pk2, b"n"), sexp_int(pk2, b"e")
    k2 = (n2.bit_length() + 7) // 8
    msg = os.urandom(32)
    pad = bytes(b % 255 + 1 for b in os.urandom(k2 - 3 - len(msg)))
    m = int.from_bytes(b"\0\2" + pad + b"\0" + msg, "big")
    cryptogram = pow(m, e2, n2).to_bytes(k2, "big")
    expect_ok(c.cmd("SETDATA " + cryptogram[:200].hex()), "SETDATA part 1")
    expect_ok(c.cmd("SETDATA --append " + cryptogram[200:].hex()), "SETDATA part 2")
    rep = c.cmd("PKDECRYPT OPENPGP.2", inquire=pin_answer)
    expect_ok(rep, "PKDECRYPT")
    check(rep.data.endswith(msg), "PKDECRYPT gave %s" % rep.data.hex())
    return "PADDING lines %s" % [a for k, a in rep.status if k == "PADDING"]


def agent_sign(t, d):
    """The real gpg-agent (scdaemon-program = dualscd) learns the card and
    signs with key 1 by keygrip; the PIN comes from the test pinentry."""
    out = gpg(t, "--card-status")
    check(out.returncode == 0, "gpg --card-status: %s" % out.stderr.decode()[-300:])
    rep = d.conn.cmd("KEYINFO --list=sign")
    grip = [a.split()[0] for k, a in rep.status if k == "KEYINFO"][0]
    pk = d.conn.cmd("READKEY OPENPGP.1").data
    n, e = sexp_int(pk, b"n"), sexp_int(pk, b"e")
    digest = hashlib.sha256(b"through the agent").digest()
    out = subprocess.run(
        ["gpg-connect-agent", "SIGKEY " + grip,
         "SETHASH --hash=sha256 " + digest.hex(), "PKSIGN", "/bye"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=t.env, timeout=60)
    text = out.stdout
    check(b"sig-val" in text, "agent PKSIGN: %r" % text[-300:])
    sexp = b"".join(unescape(x[2:]) for x in text.split(b"\n") if x.startswith(b"D "))
    s_val = sexp_int(sexp, b"s")
    info = bytes.fromhex("3031300d060960864801650304020105000420") + digest
    k = (n.bit_length() + 7) // 8
    em = pow(s_val, e, n).to_bytes(k, "big")
    check(em.endswith(b"\0" + info), "the agent's signature does not verify")
    # gpgconf --kill scdaemon goes through the agent: scd killscd + RESTART.
    subprocess.run(["gpgconf", "--kill", "scdaemon"], env=t.env, timeout=30)
    deadline = time.time() + 10
    while time.time() < deadline:
        others = [pid for pid in os.listdir("/proc") if pid.isdigit()
                  and int(pid) != d.p.pid and daemon_of(t, pid)]
        if not others:
            break
        time.sleep(0.1)
    check(not others, "the agent's dualscd %s survived gpgconf --kill" % others)
    # gpg-agent 2.2.40 notices its scdaemon's exit only on its next timer
    # tick: until then an SCD command gets "Broken pipe" (GnuPG's own
    # scdaemon alike).  Wait for that, so the next gpg finds the agent ready.
    deadline = time.time() + 15
    while time.time() < deadline:
        out = subprocess.run(["gpg-connect-agent", "SCD GETINFO version", "/bye"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=t.env, timeout=30)
        if out.stdout.startswith(b"D "):
            break
        time.sleep(0.5)
    check(out.stdout.startswith(b"D "), "the agent did not restart dualscd: %r" % out.stdout)


def daemon_of(t, pid):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
        with open("/proc/%s/environ" % pid, "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return False
    return (argv[0].endswith(b"dualscd") and b"--multi-server" in argv
            and ("GNUPGHOME=" + t.env["GNUPGHOME"]).encode() in env)


def factory_reset(t, d):
    """gpg's factory-reset sequence (shared doc section 3) through the APDU
    command; afterwards the keys are gone and the app works again."""
    c = d.conn
    expect_ok(c.cmd("LOCK"), "LOCK")
    expect_ok(c.cmd("RESET --keep-lock"), "RESET --keep-lock")
    expect_ok(c.cmd("SERIALNO undefined"), "SERIALNO undefined")
    rep = c.cmd("APDU 00A4040006D27600012401")
    expect_ok(rep, "APDU SELECT")
    check(rep.data[-2:] == b"\x90\x00", "SELECT SW %s" % rep.data.hex())
    for ref in ("81", "83"):
        for _ in range(4):
            rep = c.cmd("APDU 002000%s08%s" % (ref, "40" * 8))
            expect_ok(rep, "wrong VERIFY %s" % ref)
            check(rep.data[-2:-1] in (b"\x63", b"\x69"),
                  "wrong VERIFY SW %s" % rep.data.hex())
    for apdu in ("00e60000", "00440000"):
        rep = c.cmd("APDU " + apdu)
        expect_ok(rep, "APDU " + apdu)
        check(rep.data[-2:] == b"\x90\x00", "%s SW %s" % (apdu, rep.data.hex()))
    expect_ok(c.cmd("RESET --keep-lock"), "RESET --keep-lock again")
    expect_ok(c.cmd("SERIALNO"), "SERIALNO after the reset")
    expect_ok(c.cmd("UNLOCK"), "UNLOCK")
    rep = c.cmd("LEARN --force")
    expect_ok(rep, "LEARN after the factory reset")
    check("KEY-FPR" not in rep.keywords(), "keys survived: %s" % rep.keywords())
    rep = c.cmd("CHECKPIN " + t.serialno, inquire=pin_answer)
    expect_ok(rep, "default PW1 works again")


def idle_context_switches(t, d, seconds=120):
    """An idle daemon with a card inserted sleeps: no polling.  Issue 4
    asks for fewer than 10 context switches in 120 s, summed over all
    threads (GnuPG's scdaemon makes about 1,200); test-idle.py runs it."""
    def total():
        n = 0
        for task in os.listdir("/proc/%d/task" % d.p.pid):
            with open("/proc/%d/task/%s/status" % (d.p.pid, task)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches",
                                        "nonvoluntary_ctxt_switches")):
                        n += int(line.split()[1])
        return n
    time.sleep(0.5)
    before = total()
    time.sleep(seconds)
    n = total() - before
    check(n < 10, "%d context switches in %d s of idleness" % (n, seconds))
    return "%d context switches in %d s" % (n, seconds)


def lock_sessions(t, d):
    a = d.socket(t.socket_name)
    b = d.socket(t.socket_name)
    check(a.greeting.startswith(b"OK") and b.greeting.startswith(b"OK"),
          "socket greetings")
    rep = a.cmd("GETINFO connections")
    check(int(rep.data or b"0") >= 3, "connections %r" % rep.data)
    expect_ok(a.cmd("LOCK"), "LOCK in session A")
    expect_err(b.cmd("SERIALNO"), ERR_LOCKED, "SERIALNO while A holds the LOCK")
    expect_err(b.cmd("LOCK"), ERR_LOCKED, "LOCK while A holds it")
    expect_err(d.conn.cmd("LEARN --force"), ERR_LOCKED, "pipe LEARN while locked")
    expect_ok(a.cmd("SERIALNO"), "SERIALNO in the locking session")
    b.w.write(b"LOCK --wait\n")
    b.w.flush()
    time.sleep(0.3)
    expect_ok(a.cmd("UNLOCK"), "UNLOCK in A")
    expect_ok(b.read_reply(), "LOCK --wait in B after A's UNLOCK")
    expect_err(a.cmd("LOCK"), ERR_LOCKED, "A's LOCK while B holds it")
    expect_ok(b.cmd("RESET --keep-lock"), "RESET --keep-lock")
    expect_err(a.cmd("LOCK"), ERR_LOCKED, "A's LOCK after B's RESET --keep-lock")
    expect_ok(b.cmd("RESTART"), "RESTART releases B's LOCK")
    expect_ok(a.cmd("SERIALNO"), "SERIALNO in A after B's RESTART")
    a.cmd("BYE")
    b.cmd("BYE")
    a.sock.close()
    b.sock.close()


def killscd(t, d):
    rep = d.conn.cmd("KILLSCD")
    check(rep.ok is not None and "closing" in rep.ok, "KILLSCD reply %r" % (rep.ok,))
    try:
        d.p.wait(10)
    except subprocess.TimeoutExpired:
        raise Failed("dualscd still running 10 s after KILLSCD")
    check(not os.path.exists(t.socket_name), "socket left behind")
    return "exit status %d" % d.p.returncode


def eof_exits(t):
    d = Daemon(t)
    expect_ok(d.conn.cmd("SERIALNO"), "SERIALNO")
    d.p.stdin.close()
    try:
        d.p.wait(10)
    except subprocess.TimeoutExpired:
        d.p.kill()
        raise Failed("dualscd still running 10 s after EOF on its pipe")
    check(d.p.returncode == 0, "exit status %d after EOF" % d.p.returncode)


def server_mode(t):
    d = Daemon(t, "--server")
    rep = d.conn.cmd("GETINFO socket_name")
    check(rep.err, "--server has no socket, yet GETINFO socket_name gave OK")
    rep = d.conn.cmd("HELP PKSIGN")
    check(rep.err is None, "HELP PKSIGN: %s" % (rep.err,))
    d.conn.cmd("BYE")
    d.stop()


def daemon_mode(t):
    """--daemon prints SCDAEMON_INFO and serves the socket until KILLSCD."""
    out = subprocess.run([t.dualscd, "--daemon"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=t.env, timeout=20)
    m = re.match(rb"SCDAEMON_INFO=([^:]+):(\d+):1", out.stdout)
    check(out.returncode == 0 and m, "--daemon printed %r" % out.stdout)
    path, pid = m.group(1).decode(), int(m.group(2))
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(path)
    f = s.makefile("rwb")
    c = Conn(f, f)
    expect_ok(c.cmd("SERIALNO"), "SERIALNO on the daemon's socket")
    c.cmd("KILLSCD")
    s.close()
    deadline = time.time() + 10
    while os.path.exists("/proc/%d" % pid) and time.time() < deadline:
        time.sleep(0.05)
    check(not os.path.exists("/proc/%d/cmdline" % pid) or
          b"dualscd" not in open("/proc/%d/cmdline" % pid, "rb").read(),
          "daemon %d still running after KILLSCD" % pid)


def gpg(t, *args):
    return subprocess.run(["gpg", "--no-tty", "--with-colons"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=t.env, timeout=60)


def card_status(t):
    open(t.env["DUALSCD_WORLD_APDU_LOG"], "w").close()
    out = gpg(t, "--card-status")
    check(out.returncode == 0, "gpg --card-status: %s" % out.stderr.decode()[-500:])
    text = out.stdout.decode(errors="replace")
    check(re.search(r"^version:0304:", text, re.M), "no version line:\n" + text)
    check(re.search(r"^serial:[0-9A-F]{8}:", text, re.M), "no serial line")
    cold = len(t.apdus())
    open(t.env["DUALSCD_WORLD_APDU_LOG"], "w").close()
    out = gpg(t, "--card-status")
    check(out.returncode == 0, "second --card-status failed")
    warm = len(t.apdus())
    t.budget = (cold, warm)
    return "APDUs: cold %d (budget 7), warm %d (budget 1)" % (cold, warm)


def kdf_setup(t):
    """gpg's kdf-setup through gpg-agent and dualscd: the card then wants
    hashed PINs, and dualscd sends the S2K of the PIN the user types (a
    32-byte VERIFY that the card accepts)."""
    out = subprocess.run(
        ["gpg", "--no-tty", "--command-fd", "0", "--pinentry-mode", "loopback",
         "--passphrase", "12345678", "--card-edit"], input=b"admin\nkdf-setup\nquit\n",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=t.env, timeout=60)
    check(out.returncode == 0, "kdf-setup: %s" % out.stderr.decode()[-400:])
    st = gpg(t, "--card-status")
    check(re.search(rb"^kdf:on:", st.stdout, re.M), "card-status shows no kdf:on")
    open(t.env["DUALSCD_WORLD_APDU_LOG"], "w").close()
    out = subprocess.run(["gpg-connect-agent", "SCD SERIALNO", "SCD CHECKPIN " + t.serialno,
                          "/bye"], stdout=subprocess.PIPE, env=t.env, timeout=60)
    check(out.stdout.rstrip().endswith(b"OK") and b"ERR" not in out.stdout,
          "CHECKPIN after kdf-setup: %r" % out.stdout)
    verify = [x for x in t.apdus() if "INS=20 " in x]
    check(verify and all("Lc=32 " in x and "SW=9000" in x for x in verify),
          "VERIFY after kdf-setup: %s" % verify)
    return "%d VERIFY of a 32-byte hash" % len(verify)


EVENTS = []


def no_spurious_events(t):
    """Nothing changed in the reader: no event signal may have arrived."""
    time.sleep(0.5)
    check(not EVENTS, "%d event signal(s) without a card change" % len(EVENTS))


ERR_CARD_REMOVED = 100663406
ERR_ENODEV = 100696144


def wait_event(what, seconds=10):
    deadline = time.time() + seconds
    while not EVENTS and time.time() < deadline:
        time.sleep(0.05)
    check(EVENTS, "no event signal after the card was %s" % what)
    EVENTS.clear()


def card_removed_and_back(t):
    """The card leaves mid-session (dualscd-vcard stopped): the agent gets
    its event signal, commands fail cleanly, SERIALNO works again once the
    card is back."""
    d = Daemon(t)
    c = d.conn
    try:
        expect_ok(c.cmd("OPTION event-signal=%d" % signal.SIGUSR2), "OPTION")
        rep = c.cmd("SERIALNO")
        expect_ok(rep, "SERIALNO before")
        serial = rep.status[0][1]
        time.sleep(0.3)
        EVENTS.clear()
        with open(t.path("vcard.pid")) as f:
            pid = int(f.read())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = [a.decode() for a in f.read().split(b"\0") if a]
        os.kill(pid, signal.SIGTERM)
        wait_event("removed")
        expect_err(c.cmd("LEARN --force"), ERR_CARD_REMOVED, "LEARN without card")
        expect_err(c.cmd("SERIALNO"), ERR_ENODEV, "SERIALNO without card")
        t.vcard = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL,
                                   stderr=open(t.path("vcard2.log"), "wb"))
        wait_event("inserted")
        rep = c.cmd("SERIALNO")
        expect_ok(rep, "SERIALNO after the card came back")
        check(rep.status[0][1] == serial, "another serial number after re-insertion")
        expect_ok(c.cmd("LEARN --force"), "LEARN after the card came back")
    finally:
        d.stop()


def main():
    signal.signal(signal.SIGUSR2, lambda signo, frame: EVENTS.append(signo))
    if len(sys.argv) != 2:
        print("usage: test-assuan.py BUILD_DIR", file=sys.stderr)
        return 2
    try:
        t = Test(sys.argv[1])
    except Exception as e:
        print("1..1\nnot ok 1 - world starts\n# %s" % e)
        return 1
    d = Daemon(t)
    t.step("greeting, GETINFO, OPTION", greeting_and_getinfo, t, d)
    t.step("SERIALNO and LEARN --force", serialno_learn, t, d)
    t.step("GETATTR KEY-ATTR and READKEY", getattr_readkey, t, d)
    t.step("malformed input gets ERR with a description", malformed, t, d)
    t.step("NEEDPIN, RANDOM, APDU, SETATTR", pins_and_raw, t, d)
    t.step("a PC/SC neighbour between our commands", neighbour, t, d)
    t.step("GENKEY, KEYINFO, PKSIGN, PKDECRYPT", keys_sign_decrypt, t, d)
    t.step("gpg-agent signs through dualscd", agent_sign, t, d)
    t.step("factory reset through APDU", factory_reset, t, d)
    t.step("overlong line on a socket session", overlong_line, t, d)
    t.step("LOCK across socket sessions", lock_sessions, t, d)
    t.step("no event signal while the card stays put", no_spurious_events, t)
    t.step("KILLSCD ends the daemon", killscd, t, d)
    d.stop()
    t.step("EOF on the pipe ends the daemon", eof_exits, t)
    t.step("--server: one pipe session, no socket", server_mode, t)
    t.step("--daemon: SCDAEMON_INFO, socket, KILLSCD", daemon_mode, t)
    t.step("reader-port selects by name prefix", reader_port, t)
    t.step("pcsc-exclusive keeps other PC/SC programs out", pcsc_exclusive, t)
    t.step("gpg --card-status through gpg-agent and dualscd", card_status, t)
    t.step("kdf-setup, then the PIN goes out hashed", kdf_setup, t)
    t.vcard = None
    t.step("card removed mid-session, then back", card_removed_and_back, t)
    if t.vcard:  # the card started by the removal step, not stop.sh's
        t.vcard.terminate()
        t.vcard.wait(10)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())

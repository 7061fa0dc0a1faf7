#!/usr/bin/python3
# test-robust.py BUILD_DIR - dualscd when the world misbehaves.
#
# A private world (tests/world/start.sh) with dualscd driven over its pipe
# session: PC/SC neighbours that select another application, re-select
# OpenPGP or verify a wrong PIN between our commands (dualscd notices the
# lost state and retries once), the PIN policy of DO C4 (forcesig), pcscd
# restarted between two signatures, and gpg --card-status without the
# "older than us" version warning.  One TAP line per step.
import hashlib
import importlib.util
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "assuan", os.path.join(HERE, "test-assuan.py"))
A = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(A)
check, expect_ok, Failed = A.check, A.expect_ok, A.Failed
WORLD_CTL = os.path.join(os.path.dirname(HERE), "pcsc", "world-ctl.sh")

# A neighbour: connects shared to the world's reader and sends APDUs
# (hex arguments), printing each status word.
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
for apdu in sys.argv[2:]:
    rc, resp = SCardTransmit(card, proto, list(bytes.fromhex(apdu)))
    assert rc == 0, rc
    print("%02X%02X" % (resp[-2], resp[-1]))
SCardDisconnect(card, SCARD_LEAVE_CARD)
"""

SELECT_PIV = "00A4040005A000000308"
SELECT_OPENPGP = "00A4040006D27600012401"
WRONG_PW1_82 = "0020008206" + "39" * 6
WRONG_PW1_81 = "0020008106" + "39" * 6


def neighbour(t, *apdus):
    out = subprocess.run(["/usr/bin/python3", "-c", NEIGHBOUR,
                          t.env["DUALSCD_WORLD_READER"]] + list(apdus),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=t.env, timeout=30)
    check(out.returncode == 0, "neighbour failed: %s" % out.stderr.decode()[-400:])
    return out.stdout.decode().split()


INFO = bytes.fromhex("3031300d060960864801650304020105000420") + \
    hashlib.sha256(b"robust").digest()


def sign(c, what):
    """SETDATA and PKSIGN with key 1; returns the reply."""
    expect_ok(c.cmd("SETDATA " + INFO.hex()), "SETDATA")
    rep = c.cmd("PKSIGN --hash=sha256 OPENPGP.1", inquire=pin_answer)
    return rep


def pin_answer(q):
    pin = b"12345678" if q.startswith("NEEDPIN |A|") else b"123456"
    return pin + b"\0" * (90 - len(pin))


def setup_keys(t, d):
    c = d.conn
    rep = c.cmd("SERIALNO")
    expect_ok(rep, "SERIALNO")
    t.serialno = rep.status[0][1]
    rep = c.cmd("GENKEY --force --timestamp=20240101T000000 1", inquire=pin_answer)
    expect_ok(rep, "GENKEY 1")


def learn_after(t, d, apdus, want_sw):
    """CHECKPIN (PW1 verified, PRIVATE-DO-3 readable), a neighbour, then
    LEARN must still work: the first LEARN fails with 6982 without the
    state-lost retry."""
    c = d.conn
    # A raw APDU makes dualscd forget its cache and PIN state, so that the
    # LEARN below reads PRIVATE-DO-3 afresh, as after the first CHECKPIN.
    expect_ok(c.cmd("APDU 00CA005E00"), "APDU")
    expect_ok(c.cmd("CHECKPIN " + t.serialno, inquire=pin_answer), "CHECKPIN")
    sws = neighbour(t, *apdus)
    check(sws == want_sw or (want_sw[-1] == "63C2" and sws[-1] == "6982"),
          "neighbour SWs %s, want %s" % (sws, want_sw))
    rep = c.cmd("LEARN --force")
    expect_ok(rep, "LEARN after the neighbour")
    kws = rep.keywords()
    check(kws.count("SERIALNO") == 1 and kws.count("READER") == 1,
          "status lines repeated by the retry: %s" % kws)
    rep = c.cmd("LEARN --force")
    expect_ok(rep, "second LEARN")
    return "neighbour SWs %s, %d LEARN lines" % (" ".join(sws), len(kws))


def sign_after(t, d, apdus):
    """A signature (PW1 verified, kept for several signatures), the
    neighbour, a second signature: it works, asking the PIN once again."""
    c = d.conn
    expect_ok(sign(c, "PKSIGN 1"), "PKSIGN 1")
    sws = neighbour(t, *apdus)
    rep = sign(c, "PKSIGN 2")
    expect_ok(rep, "PKSIGN after the neighbour")
    check(len(rep.data) == 256, "signature of %d bytes" % len(rep.data))
    check(len(rep.inquiries) <= 1, "PIN asked %d times" % len(rep.inquiries))
    return "neighbour SWs %s, %d PIN prompt(s)" % (" ".join(sws), len(rep.inquiries))


def prompts_for_two_signatures(c):
    n = []
    for _ in range(2):
        rep = sign(c, "PKSIGN")
        expect_ok(rep, "PKSIGN")
        n.append(len([q for q in rep.inquiries if q.startswith("NEEDPIN")]))
    return n


def forcesig(t, d):
    """C4's first byte: 00 = PW1 valid for one signature (ask each time),
    01 = for several (ask once)."""
    c = d.conn
    notes = []
    for value, want in (("%00", [1, 1]), ("%01", [1, 0])):
        rep = c.cmd("SETATTR CHV-STATUS-1 " + value, inquire=pin_answer)
        expect_ok(rep, "SETATTR CHV-STATUS-1 " + value)
        expect_ok(c.cmd("RESTART"), "RESTART")
        # A fresh PIN state: the neighbour re-selects the application.
        neighbour(t, SELECT_OPENPGP)
        expect_ok(c.cmd("SERIALNO"), "SERIALNO")
        got = prompts_for_two_signatures(c)
        check(got[1] == want[1], "C4 %s: prompts %s, want %s" % (value, got, want))
        notes.append("C4 %s: prompts %s" % (value, got))
    return ", ".join(notes)


def version_no_warning(t, d):
    c = d.conn
    rep = c.cmd("GETINFO version")
    expect_ok(rep, "GETINFO version")
    ver = tuple(int(x) for x in rep.data.split(b"."))
    check(ver >= (2, 4, 8), "GETINFO version %r is older than gpg 2.4.8" % rep.data)
    own = c.cmd("GETINFO dualscd_version")
    expect_ok(own, "GETINFO dualscd_version")
    check(re.fullmatch(rb"\d+\.\d+\.\d+", own.data), "dualscd_version %r" % own.data)
    out = A.gpg(t, "--card-status")
    err = out.stderr.decode(errors="replace")
    check(out.returncode == 0, "gpg --card-status: %s" % err[-300:])
    check("older than us" not in err, "gpg warned: %s" % err.strip())
    return "version %s, dualscd %s" % (rep.data.decode(), own.data.decode())


def agent_sign(t, grip):
    """A signature through the real gpg-agent and its own dualscd."""
    digest = hashlib.sha256(b"through the agent").digest()
    out = subprocess.run(
        ["gpg-connect-agent", "SIGKEY " + grip,
         "SETHASH --hash=sha256 " + digest.hex(), "PKSIGN", "/bye"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=t.env, timeout=60)
    return b"sig-val" in out.stdout, out.stdout[-300:]


def agent_scd_pids(t):
    return sorted(p for p in os.listdir("/proc") if p.isdigit() and A.daemon_of(t, p))


def pcscd_restart(t, d):
    """pcscd killed and restarted between two signatures: the second works
    without touching dualscd, through the agent's dualscd (same process)
    and through ours (SERIALNO first, as gpg-agent always sends it)."""
    c = d.conn
    out = A.gpg(t, "--card-status")  # the agent learns the card's keys
    check(out.returncode == 0, "gpg --card-status: %s" % out.stderr.decode()[-300:])
    rep = c.cmd("KEYINFO --list=sign")
    grip = [a.split()[0] for k, a in rep.status if k == "KEYINFO"][0]
    ok, text = agent_sign(t, grip)
    check(ok, "agent PKSIGN before: %r" % text)
    pids = agent_scd_pids(t)
    expect_ok(sign(c, "PKSIGN before"), "PKSIGN before")
    out = subprocess.run([WORLD_CTL, t.dir, t.build, "pcscd-restart"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check(out.returncode == 0, "world-ctl.sh: %s" % out.stderr.decode())
    rep = None
    deadline = time.time() + 30
    while time.time() < deadline:  # the reader comes back a little later
        rep = c.cmd("SERIALNO")
        if rep.err is None:
            break
        time.sleep(0.5)
    expect_ok(rep, "SERIALNO after the pcscd restart")
    expect_ok(sign(c, "PKSIGN after"), "PKSIGN after the pcscd restart")
    ok, text = agent_sign(t, grip)
    check(ok, "agent PKSIGN after the restart: %r" % text)
    check(agent_scd_pids(t) == pids, "the agent's dualscd changed: %s -> %s" % (
        pids, agent_scd_pids(t)))
    check(d.p.poll() is None, "dualscd exited")
    return "agent's dualscd %s kept" % pids


def sanitizers_clean(t, d):
    """With an ASan/LSan build, dualscd exits without a report (libgcrypt's
    secure memory and random device are released at exit)."""
    d.stop()
    check(d.p.returncode == 0, "dualscd exit status %d" % d.p.returncode)
    bad = []
    for name in os.listdir(t.dir):
        if name.startswith("dualscd-") and name.endswith(".log"):
            with open(os.path.join(t.dir, name), errors="replace") as f:
                text = f.read()
            if "Sanitizer" in text or "runtime error:" in text:
                bad.append(name + ": " + text[text.find("Sanitizer") - 60:][:400])
    check(not bad, "sanitizer reports: %s" % bad)


def main():
    if len(sys.argv) != 2:
        print("usage: test-robust.py BUILD_DIR", file=sys.stderr)
        return 2
    try:
        t = A.Test(sys.argv[1])
    except Exception as e:
        print("1..1\nnot ok 1 - world starts\n# %s" % e)
        return 1
    d = A.Daemon(t)
    t.step("GENKEY 1 for the signatures", setup_keys, t, d)
    t.step("LEARN after a neighbour SELECTs PIV (6A82)", learn_after, t, d,
           [SELECT_PIV], ["6A82"])
    t.step("LEARN after a neighbour re-selects OpenPGP", learn_after, t, d,
           [SELECT_OPENPGP], ["9000"])
    t.step("LEARN after a neighbour verifies a wrong PIN", learn_after, t, d,
           [SELECT_OPENPGP, WRONG_PW1_82], ["9000", "63C2"])
    # forcesig first: it leaves C4 at 01 (PW1 valid for several
    # signatures), so the signatures below rely on a PW1 state the
    # neighbour takes away.
    t.step("C4 forcesig decides whether the PIN is asked again", forcesig, t, d)
    t.step("PKSIGN after a neighbour re-selects OpenPGP", sign_after, t, d,
           [SELECT_OPENPGP])
    t.step("PKSIGN after a neighbour verifies a wrong PW1", sign_after, t, d,
           [WRONG_PW1_81])
    t.step("GETINFO version: no 'older than us' from gpg", version_no_warning, t, d)
    t.step("pcscd restarted between two signatures", pcscd_restart, t, d)
    t.step("dualscd exits cleanly (no sanitizer report)", sanitizers_clean, t, d)
    d.stop()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())

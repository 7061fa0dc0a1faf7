#!/usr/bin/python3
# test-budget.py BUILD_DIR - the APDUs of a cold and a warm
# `gpg --card-status` through dualscd, read from the card's APDU log, for
# three card profiles: the default v3.4 card (KDF-DO and private DOs), the
# same card without private DOs, and a v2.1 card (no KDF-DO).
#
# The budget of a cold status is one SELECT and one GET DATA for each data
# object whose content `gpg --card-status` prints and no other object
# carries: 6E (application data: fingerprints, key attributes, PIN status,
# extended capabilities, UIF), 65 (cardholder), 5F50 (URL), 5E (login
# data), 7A (signature counter) - that is 6 APDUs - plus F9 when the card
# says it has a KDF-DO (gpg prints "KDF setting") and 0101 and 0102 when it
# says it has private DOs (gpg prints "Private DO 1/2").  So a card without
# private DOs must cost at most 7 APDUs; with them the two extra reads are
# the price of showing their content, and the test asserts that each
# object is read exactly once and nothing else is sent.  A repeated status
# costs nothing (the cache answers).  GnuPG's own scdaemon is measured on
# the same cards for comparison (printed, not asserted).
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "world"))
import testworld  # noqa: E402

BASE = ["A4", "CA:006E", "CA:0065", "CA:5F50", "CA:005E", "CA:007A"]
KDF = ["CA:00F9"]
PRIVATE = ["CA:0101", "CA:0102"]

# (name, start.sh card options, expected reads beyond BASE, budget)
PROFILES = [
    ("v3.4 card without private DOs", ["--card-arg", "--no-private-dos"], KDF, 7),
    ("v3.4 card with KDF-DO and private DOs", [], KDF + PRIVATE, 9),
    ("v2.1 card (no KDF-DO)", ["--card-version", "2.1"], PRIVATE, 8),
]


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


class World(testworld.World):
    def __init__(self, build, scdaemon, card_opts):
        try:
            super().__init__(build, ["--scdaemon", scdaemon] + card_opts,
                             prefix="dualscd-budget.", timeout=60)
        except testworld.WorldFailed as e:
            raise Failed(str(e))

    def apdus(self):
        """The commands of the APDU log as 'INS' or 'INS:P1P2' (GET DATA)."""
        out = []
        with open(self.env["DUALSCD_WORLD_APDU_LOG"], errors="replace") as f:
            for line in f:
                m = re.search(r"INS=(\w\w) P1=(\w\w) P2=(\w\w)", line)
                if line.startswith("vcard:") and m:
                    ins, p1, p2 = m.groups()
                    out.append(ins if ins != "CA" else "CA:%s%s" % (p1, p2))
        return out

    def card_status(self):
        """The APDUs one gpg --card-status cost, and gpg's output."""
        before = len(self.apdus())
        out = subprocess.run(["gpg", "--no-tty", "--with-colons", "--card-status"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=self.env, timeout=60, text=True)
        check(out.returncode == 0, "gpg --card-status: " + out.stderr[-500:])
        return self.apdus()[before:], out.stdout


def dualscd_profile(build, opts, extra, budget):
    w = World(build, os.path.join(build, "agent", "dualscd"), opts)
    try:
        cold, text = w.card_status()
        check(re.search(r"^serial:[0-9A-F]{8}:", text, re.M), "no serial line:\n" + text)
        want = sorted(BASE + extra)
        check(sorted(cold) == want, "cold --card-status sent %s, want exactly %s"
              % (" ".join(cold), " ".join(want)))
        check(len(cold) <= budget, "%d APDUs, budget %d" % (len(cold), budget))
        check(("CA:00F9" in extra) == bool(re.search(r"^kdf:", text, re.M)),
              "the KDF line does not match what the card has:\n" + text)
        warm, _ = w.card_status()
        check(len(warm) <= 1, "a repeated --card-status sent %s" % " ".join(warm))
        return "cold %d (budget %d: %s), warm %d" % (len(cold), budget, " ".join(cold),
                                                     len(warm))
    finally:
        rc, out = w.stop()
        check(rc == 0, "world did not stop cleanly: " + out[-500:])


def gnupg_profile(build, opts):
    w = World(build, "/usr/lib/gnupg/scdaemon", opts)
    try:
        cold, _ = w.card_status()
        warm, _ = w.card_status()
        return "GnuPG's scdaemon: cold %d, warm %d" % (len(cold), len(warm))
    finally:
        w.stop()


def main():
    if len(sys.argv) != 2:
        print("usage: test-budget.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    n = failed = 0
    for name, opts, extra, budget in PROFILES:
        for what, fn in (("dualscd", lambda: dualscd_profile(build, opts, extra, budget)),
                         ("GnuPG", lambda: gnupg_profile(build, opts))):
            n += 1
            try:
                note = fn()
                print("ok %d - %s, %s # %s" % (n, name, what, note))
            except Exception as e:  # each profile reports on its own
                failed += 1
                print("not ok %d - %s, %s" % (n, name, what))
                for line in str(e).splitlines():
                    print("#   " + line)
            sys.stdout.flush()
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

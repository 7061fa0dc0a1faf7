#!/usr/bin/python3
# test-idle.py BUILD_DIR - an idle dualscd with a card inserted sleeps.
#
# Issue 4: fewer than 10 context switches in 120 s, summed over the
# daemon's threads (/proc/PID/task/*/status, voluntary + nonvoluntary).
# A world of its own, so it may run beside the other tests.
import os
import sys
import importlib.util

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "assuan", os.path.join(HERE, "test-assuan.py"))
A = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(A)


def connect_and_learn(t, d):
    A.expect_ok(d.conn.cmd("SERIALNO"), "SERIALNO")
    A.expect_ok(d.conn.cmd("LEARN --force"), "LEARN --force")


def main():
    if len(sys.argv) != 2:
        print("usage: test-idle.py BUILD_DIR", file=sys.stderr)
        return 2
    try:
        t = A.Test(sys.argv[1])
    except Exception as e:
        print("1..1\nnot ok 1 - world starts\n# %s" % e)
        return 1
    d = A.Daemon(t)
    t.step("SERIALNO and LEARN: the card is connected", connect_and_learn, t, d)
    t.step("idle 120 s: fewer than 10 context switches", A.idle_context_switches,
           t, d, 120)
    d.stop()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())

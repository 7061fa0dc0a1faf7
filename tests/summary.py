#!/usr/bin/env python3
"""Print "N passed, M failed" from meson's testlog.json files.

Every test meson ran counts once: OK and EXPECTEDFAIL pass; FAIL, TIMEOUT,
ERROR, UNEXPECTEDPASS and SKIP fail (a test that cannot run here is not a
pass).  Missing log files count as one failure each, so a build that never
reached its tests cannot look green.  When tests were skipped (say the
GnuPG 2.4 suite with DUALSCD_SKIP_TRIXIE=1), a "K skipped" line comes
before the last line, so a skip is reported as such, never as a pass.
"""
import json
import sys

PASS = {"OK", "EXPECTEDFAIL"}


def main(paths):
    passed = failed = skipped = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                lines = [line for line in f if line.strip()]
        except OSError as e:
            print(f"summary: {path}: {e}", file=sys.stderr)
            failed += 1
            continue
        for line in lines:
            entry = json.loads(line)
            if entry.get("result") in PASS:
                passed += 1
            else:
                skipped += entry.get("result") == "SKIP"
                failed += 1
                print(f"summary: {entry.get('result')}: {entry.get('name')} ({path})",
                      file=sys.stderr)
    if skipped:
        print(f"{skipped} skipped")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

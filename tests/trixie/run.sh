#!/bin/bash
# run.sh - one test of the GnuPG 2.4 suite, run inside a Debian 13 chroot.
#
# Usage: run.sh [--tap] MODE WORK_DIR
#   MODE: interop-dualscd  gpg/gpg-agent/gpg-card 2.4.7 through dualscd
#                          (tests/interop/interop.py --scdaemon, budgets)
#         interop-gnupg    the same workflows with GnuPG 2.4.7's scdaemon
#         trace            tests/agent/test-trace.py against GnuPG 2.4.7
#
# Makes sure the cached chroot exists (chroot.sh create), builds dualscd
# and dualscd-vcard inside it from this source tree (bound read-only on
# /src) into WORK_DIR/build, then runs MODE's script inside the chroot,
# where pcscd, the card and every PC/SC client run (trixie's pcscd speaks a
# client protocol bookworm's libpcsclite does not).  The script's TAP goes
# to stdout, after "#" lines with the time each stage took.
#
# DUALSCD_SKIP_TRIXIE=1 skips (for machines without Debian's archive):
# exit status 77, or with --tap (what meson passes) a TAP plan "1..0 #
# SKIP" and status 0, because meson's TAP harness takes any non-zero exit
# for an error while it reports such a plan as SKIP.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tap=0
if [ "${1:-}" = --tap ]; then
  tap=1
  shift
fi
[ $# -eq 2 ] || { echo "usage: run.sh [--tap] MODE WORK_DIR" >&2; exit 2; }
mode=$1
mkdir -p "$2"
work=$(cd "$2" && pwd)

if [ "${DUALSCD_SKIP_TRIXIE:-}" = 1 ]; then
  why="DUALSCD_SKIP_TRIXIE=1: GnuPG 2.4 tests in the Debian 13 chroot not run"
  echo "1..0 # SKIP $why"
  echo "run.sh: skipped ($why)" >&2
  [ "$tap" = 1 ] && exit 0
  exit 77
fi

case $mode in
  interop-dualscd)
    cmd=(/usr/bin/python3 /src/tests/interop/interop.py
      --scdaemon "$work/build/agent/dualscd" "$work/build") ;;
  interop-gnupg)
    cmd=(/usr/bin/python3 /src/tests/interop/interop.py "$work/build") ;;
  trace)
    cmd=(/usr/bin/python3 /src/tests/agent/test-trace.py "$work/build") ;;
  *) echo "run.sh: unknown mode $mode" >&2; exit 2 ;;
esac

# A failure before the tests start is one failed TAP test with its reason.
bail() {
  echo "1..1"
  echo "not ok 1 - $1"
  sed 's/^/# /' "$2" | tail -40
  exit 1
}

now() { date +%s%N; }
took() {
  local ms=$((($(now) - $1) / 1000000))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

t0=$(now)
"$here/chroot.sh" create >"$work/chroot.out" 2>&1 ||
  bail "trixie chroot (chroot.sh create)" "$work/chroot.out"
echo "# chroot ready in $(took "$t0") s: $(cat "$work/chroot.out")"

# One build per work dir, whichever test comes first; the others find it
# up to date.  meson's own -Werror makes this a warning-free build with
# trixie's gcc 14, libassuan 3 and libgcrypt 1.11.
t0=$(now)
(
  flock 9
  # shellcheck disable=SC2016 # $1 expands in the chroot's sh
  "$here/chroot.sh" enter "$work" sh -c '
    set -e
    [ -f "$1/build/build.ninja" ] || meson setup "$1/build" /src
    ninja -C "$1/build"' sh "$work"
) 9>"$work/build.lock" >"$work/build.out" 2>&1 ||
  bail "build dualscd in the trixie chroot" "$work/build.out"
echo "# built in the chroot in $(took "$t0") s" \
  "($(grep -c '^\[' "$work/build.out" || true) ninja steps)"

t0=$(now)
rc=0
"$here/chroot.sh" enter "$work" "${cmd[@]}" || rc=$?
echo "# $mode ran in $(took "$t0") s"
exit "$rc"

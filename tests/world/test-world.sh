#!/bin/bash
# test-world.sh BUILD_DIR - the test world starts, shows the card to PC/SC
# clients with the card's own ATR, answers a SELECT, and stops leaving
# nothing behind.  TAP output.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: test-world.sh BUILD_DIR}
world=$(mktemp -d /tmp/dualscd-world.XXXXXX)
n=0
failed=0

ok() {
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $n - $2"
  else
    echo "not ok $n - $2"
    failed=1
  fi
}

# Shows a world file after a failure, as TAP comments.
show() {
  [ -f "$world/$1" ] && tail -n "${2:-20}" "$world/$1" | sed "s|^|# $1: |"
}

if "$here/start.sh" "$build" "$world" >"$world.env"; then
  ok 0 "world starts"
  # shellcheck disable=SC1090
  . "$world.env"
else
  ok 1 "world starts"
  show pcscd.log
  show vcard.log
  "$here/stop.sh" "$world" >/dev/null 2>&1
  echo "1..$n"
  exit 1
fi

want_atr=$("$build/tests/vcard/dualscd-vcard" --print-atr)
[ -n "$want_atr" ] && [ "$DUALSCD_WORLD_ATR" = "$want_atr" ]
ok $? "pyscard sees the card's ATR ($DUALSCD_WORLD_ATR)"

# An independent client: OpenSC prints the ATR as colon-separated hex.
opensc_atr=$(opensc-tool -a 2>/dev/null | grep -E '^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})+$' |
  tr -d ':' | tr 'a-f' 'A-F')
[ "$opensc_atr" = "$want_atr" ]
ok $? "opensc-tool -a sees the same ATR ($opensc_atr)"

select=$(/usr/bin/python3 "$here/probe.py" --wait 5 --apdu 00A4040006D2760001240100 |
  sed -n 's/^APDU [0-9A-F]* -> //p')
[ "${select: -4}" = 9000 ]
ok $? "SELECT OpenPGP application answers 9000 (got $select)"

grep -q . "$world/apdu.log"
ok $? "the card logs APDUs to the world's log"

pids=$(awk '{ print $2 }' "$world/pids")
"$here/stop.sh" "$world"
ok $? "world stops cleanly (card exit status 0)"

left=
for pid in $pids; do
  [ -r "/proc/$pid/cmdline" ] && [ -s "/proc/$pid/cmdline" ] && left="$left $pid"
done
# Anything else still holding the world's paths (gpg-agent, scdaemon).
for d in /proc/[0-9]*; do
  if tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -q -- "$world"; then
    left="$left ${d#/proc/}"
  fi
done
[ -z "$left" ]
ok $? "nothing the world started is left running${left:+ (left:$left)}"

echo "1..$n"
if [ "$failed" -eq 0 ]; then
  rm -rf "$world" "$world.env"
else
  show vcard.log
  show pcscd.log
  echo "# world kept in $world"
fi
exit "$failed"

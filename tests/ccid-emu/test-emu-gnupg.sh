#!/bin/bash
# test-emu-gnupg.sh - programs we did not write accept the emulated reader
#
# Usage: test-emu-gnupg.sh BUILD_DIR MODE [pcscd [pinpad]]
# Starts a world with the card in dualscd-ccid-emu (tests/world/start.sh
# --ccid MODE).  Without "pcscd", GnuPG 2.2.40's scdaemon reaches the reader
# with its internal CCID driver; in tpdu mode the card first asks for time
# twice (S(WTX)) and sends one block with a bad LRC, which the driver must
# recover from.  With "pcscd", pcscd + libccid hold the reader: opensc-tool
# reads the ATR and the scdaemon (disable-ccid) goes through pcscd; with
# "pinpad" the reader has one and libccid's PC_to_RDR_Secure (PC/SC
# FEATURE_VERIFY_PIN_DIRECT) verifies PW1 with the PIN it "types".  TAP.
set -uo pipefail

build=$(cd "${1:?usage: test-emu-gnupg.sh BUILD_DIR MODE [pcscd]}" && pwd)
mode=${2:?mode}
pcscd=${3:-}
pinpad=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
world=$(mktemp -d /tmp/dualscd-emu-world.XXXXXX)
rmdir "$world"
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

ctl() { /usr/bin/python3 "$here/emu-ctl.py" "$DUALSCD_WORLD_EMU_CONTROL" "$@"; }

finish() {
  "$here/../world/stop.sh" "$world" >"$world.stop" 2>&1
  ok $? "stop.sh stops everything cleanly"
  sed 's/^/# /' "$world.stop"
  rm -f "$world.stop"
  [ "$failed" -eq 0 ] && rm -rf "$world"
  echo "1..$n"
  exit "$failed"
}

opts=(--ccid "$mode")
[ "$pcscd" = pcscd ] && opts+=(--with-pcscd)
[ "$pinpad" = pinpad ] && opts+=(--ccid-opts --pinpad)
if ! "$here/../world/start.sh" "${opts[@]}" "$build" "$world" >"$world.start" 2>&1; then
  sed 's/^/# /' "$world.start"
  rm -f "$world.start"
  ok 1 "start.sh ${opts[*]}"
  echo "1..$n"
  exit 1
fi
rm -f "$world.start"
ok 0 "start.sh ${opts[*]}"
# shellcheck disable=SC1091
. "$world/env"

if [ "$pcscd" = pcscd ]; then
  atr=$(opensc-tool -a 2>&1 | tr -d ':' | tr 'a-f' 'A-F' | grep -E '^[0-9A-F]+$')
  [ "$atr" = "$DUALSCD_WORLD_ATR" ]
  ok $? "opensc-tool -a through pcscd + libccid reads the card's ATR ($atr)"
  pcscd_pid=$(awk '$1 == "pcscd" { print $2 }' "$world/pids")
  [ "$(ctl holders 1)" = "ok $pcscd_pid" ]
  ok $? "the emulator names pcscd ($pcscd_pid) as the holder of the interface"
elif [ "$mode" = tpdu ]; then
  ctl fault 1 wtx 2 >/dev/null && ctl fault 1 corrupt-t1 >/dev/null
  ok $? "faults armed: wtx 2, corrupt-t1"
fi

ctl stats-reset 1 >/dev/null
status=$(timeout 60 gpg --card-status 2>&1)
grep -q '^Application ID ...: D27600012401' <<<"$status"
ok $? "gpg --card-status through GnuPG's scdaemon (${pcscd:-internal CCID driver})"
grep -q '^Serial number' <<<"$status" || while read -r line; do echo "# $line"; done <<<"$status"

stats=$(ctl stats 1)
echo "# $stats"
out=$(sed -n 's/.* bulk_out=\([0-9]*\).*/\1/p' <<<"$stats")
[ "${out:-0}" -gt 0 ]
ok $? "the card was reached over the emulated bulk endpoints"
if [ "$mode" = tpdu ]; then
  grep -q 'set_params=01' <<<"$stats" || [ -n "$pcscd" ]
  ok $? "the host sent SetParameters for T=1 (TPDU reader without automatic PPS)"
fi
if [ "$mode" = tpdu ] && [ -z "$pcscd" ]; then
  [ "$(ctl faults 1)" = ok ]
  ok $? "both faults happened and the driver recovered"
fi
if [ "$pcscd" = pcscd ]; then
  # Idle: pcscd keeps an interrupt URB pending; neither it nor the
  # emulator may spend CPU on that (no busy-poll).
  emu_pid=$(awk '$1 == "ccid-emu" { print $2 }' "$world/pids")
  ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
  p0=$(ticks "$pcscd_pid") e0=$(ticks "$emu_pid")
  sleep 3
  p1=$(ticks "$pcscd_pid") e1=$(ticks "$emu_pid")
  echo "# idle 3 s: pcscd $((p1 - p0)) ticks, emulator $((e1 - e0)) ticks"
  [ $((p1 - p0)) -le 5 ] && [ $((e1 - e0)) -le 5 ]
  ok $? "an idle reader costs pcscd and the emulator no CPU"

  readers() { opensc-tool -l 2>&1 | grep -c 'dualscd emulated CCID reader'; }
  ctl unplug 1 >/dev/null
  for _ in $(seq 50); do [ "$(readers)" -eq 0 ] && break; sleep 0.1; done
  [ "$(readers)" -eq 0 ]
  ok $? "unplug: pcscd's hotplug removes the reader"
  ctl replug 1 >/dev/null
  for _ in $(seq 50); do [ "$(readers)" -eq 1 ] && break; sleep 0.1; done
  atr=$(opensc-tool -a 2>&1 | tr -d ':' | tr 'a-f' 'A-F' | grep -E '^[0-9A-F]+$')
  [ "$atr" = "$DUALSCD_WORLD_ATR" ]
  ok $? "replug: pcscd + libccid find the reader again and read the ATR"
fi
if [ "$pinpad" = pinpad ]; then
  pinpad() { /usr/bin/python3 "$here/pcsc-pinpad.py"; }
  [ "$(pinpad)" = "SW 9000" ]
  ok $? "pinpad through libccid: the typed PIN verifies PW1"
  ctl pinpad-pin 111111 >/dev/null
  [ "$(pinpad)" = "SW 6982" ]
  ok $? "pinpad: a wrong typed PIN is refused by the card"
  ctl pinpad-cancel >/dev/null
  [ "$(pinpad)" = "SW 6401" ]
  ok $? "pinpad-cancel: libccid reports the user's cancel (bError 0xEF) as 6401"
  ctl pinpad-pin 123456 >/dev/null
  [ "$(pinpad)" = "SW 9000" ]
  ok $? "pinpad: the right PIN again (retry counter restored)"
fi
grep -q 'INS=A4 P1=04 P2=00 Lc=6 Le=- data=D27600012401 .*SW=9000' "$DUALSCD_WORLD_APDU_LOG"
ok $? "the card's APDU log shows the SELECT"
finish

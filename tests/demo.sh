#!/bin/sh
# demo.sh - install what is needed, build, and run the main job.
#
# Until the agent lands, the main job is what stands: dualscd-check's ATR
# decoder on two published ATRs, then the software OpenPGP card in its
# private PC/SC world, read by the real gpg (through GnuPG's own scdaemon
# for now; through dualscd once the agent exists).  Needs root for the
# private pcscd's mount namespace.
set -eu
cd "$(dirname "$0")/.."

sh tests/deps.sh
[ -f build/build.ninja ] || meson setup build
meson compile -C build

for atr in \
  "3B 94 18 81 B1 80 7D 1F 03 19 C8 00 50 DC" \
  "3B DE 18 FF 81 F1 FE 43 00 3F 07 83 44 45 53 46 69 72 65 38 20 53 41 4D 2D 58 17"
do
  echo "\$ dualscd-check atr $atr"
  ./build/agent/dualscd-check atr "$atr"
  echo
done

world=$(mktemp -d /tmp/dualscd-demo.XXXXXX)
rmdir "$world"
trap 'bash tests/world/stop.sh "$world" >/dev/null 2>&1 || true; rm -rf "$world"' EXIT
bash tests/world/start.sh build "$world" >/dev/null
. "$world/env"
echo "\$ gpg --card-status    # the software card, in a private pcscd"
gpg --card-status
echo
echo "APDUs the card answered: $(grep -c '^vcard: ' "$world/apdu.log")"

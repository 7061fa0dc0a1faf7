#!/bin/sh
# demo.sh - install what is needed, build, and run the main job.
#
# The main job: the real gpg and gpg-agent use the built dualscd as their
# scdaemon, in a private PC/SC test world (a private pcscd with the software
# OpenPGP card behind vpcd, a private GNUPGHOME whose test pinentry answers
# the card's default PINs).  It shows gpg --card-status, generates
# RSA 2048 keys on the card, signs a file with the card and verifies
# the signature, with the APDUs each step cost, then stops what it started.
# Needs root for the private pcscd's mount namespace.  The build directory
# is ./build, or $DUALSCD_BUILD.
set -eu
cd "$(dirname "$0")/.."
build=${DUALSCD_BUILD:-build}

sh tests/deps.sh
[ -f "$build/build.ninja" ] || meson setup "$build"
meson compile -C "$build"

world=$(mktemp -d /tmp/dualscd-demo.XXXXXX)
rmdir "$world"
top=$PWD
# The demo cds into the world below: the trap must not depend on the cwd.
trap 'bash "$top/tests/world/stop.sh" "$world" >/dev/null 2>&1 || true; rm -rf "$world"' EXIT
bash tests/world/start.sh --scdaemon "$PWD/$build/agent/dualscd" "$build" "$world" >/dev/null
. "$world/env"
cd "$world"

# APDUs the card answered since the last call.
seen=0
apdus() {
  total=$(grep -c '^vcard: ' "$DUALSCD_WORLD_APDU_LOG" || true)
  echo "    ($((total - seen)) APDUs)"
  seen=$total
}

show() {
  echo
  echo "\$ $*"
}

show gpg --card-status "   # dualscd is gpg-agent's scdaemon-program"
gpg --card-status
apdus
show gpg --card-status "   # again: dualscd knows the card"
gpg --card-status >/dev/null
apdus

# card-edit reads its answers from stdin (--command-fd 0), in prompt
# order: generate asks about an off-card backup of the encryption key, the
# expiry, the name, the e-mail address and a comment.  The test pinentry
# gives the PINs.  The card's default keys are RSA 2048.
show gpg --card-edit "   # admin, generate: three RSA 2048 keys on the card"
printf '%s\n' admin generate n 0 'Card Holder' holder@example.org '' quit |
  gpg --command-fd 0 --no-tty --card-edit >/dev/null 2>&1 || true
gpg --list-keys holder@example.org
apdus

echo 'signed by the card, through dualscd' >message
show gpg --detach-sign message
gpg --local-user holder@example.org --detach-sign message
apdus
show gpg --verify message.sig message
gpg --verify message.sig message
apdus

#!/bin/sh
# deps.sh - install what building and testing dualscd needs (Debian 12).
# Idempotent: installs only the packages that are missing, and runs
# apt-get update only when something has to be installed.
set -eu

packages="
  gcc
  clang
  clang-format
  libclang-rt-14-dev
  pkg-config
  meson
  ninja-build
  python3
  libgcrypt20-dev
  libassuan-dev
  libgpg-error-dev
  libusb-1.0-0-dev
  libpcsclite-dev
  pcscd
  vsmartcard-vpcd
  gnupg
  gpg
  gpg-agent
  gpgconf
  scdaemon
  opensc
  python3-pyscard
  openssh-client
  procps
  util-linux
  mount
  coreutils
  umockdev
  libumockdev-dev
  gir1.2-umockdev-1.0
  python3-gi
  debootstrap
"

missing=
for p in $packages; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *" installed") ;;
    *) missing="$missing $p" ;;
  esac
done

[ -n "$missing" ] || exit 0

sudo=
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
fi
echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing

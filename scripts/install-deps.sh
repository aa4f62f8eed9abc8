#!/bin/sh
# Install the Debian packages cuplab needs to build, test and demo, if any are
# missing; with the argument "fuzz", also what `make fuzz` needs (clang and
# its libFuzzer runtime).  Uses apt-get directly as root, through sudo
# otherwise.  Prints nothing when everything is already there.
set -eu

PACKAGES="gcc make pkg-config
libserialport-dev libhdf5-dev hdf5-tools libgsl-dev libjansson-dev zlib1g-dev
libcmocka-dev libplplot-dev plplot-driver-cairo libmatio-dev libedf-dev libmicrohttpd-dev
chromium python3-websocket
python3 python3-h5py python3-numpy python3-scipy python3-serial python3-pandas
python3-mne python3-matplotlib poppler-utils octave
r-base-core gcc-avr avr-libc avrdude simavr libsimavr-dev libelf-dev"
[ "${1:-}" = fuzz ] && PACKAGES="$PACKAGES clang libclang-rt-14-dev"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

echo "cuplab: installing missing packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "cuplab: need root or sudo to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null

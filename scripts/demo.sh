#!/bin/sh
# The demo: a simulated 4-cup, 10-minute session (run 60x faster than real
# time) streamed by the virtual device over a pseudo-terminal, recorded by
# cuplab-acquire into an HDF5 session file and summarised by cuplab-analyze.
set -eu
BUILD=${BUILD:-build}
out=${DEMO_DIR:-demo-out}
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
file="$out/session-$stamp.h5"

"$BUILD/cuplab-sim" --cups 4 --rate 100 --duration 600 --time-scale 60 --seed 42 \
    --technique mixed --truth "$out/session-$stamp.truth.json" >"$out/sim.out" &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
pty=""
for _ in $(seq 1 100); do
    pty=$(head -n 1 "$out/sim.out" 2>/dev/null || true)
    [ -n "$pty" ] && break
    sleep 0.05
done
[ -n "$pty" ] || { echo "demo: the virtual device did not start" >&2; exit 1; }
echo "demo: virtual device on $pty; recording 10 simulated minutes (about 10 s)..."

"$BUILD/cuplab-acquire" -o "$file" --no-reconnect --practitioner "demo practitioner" \
    --subject S001 --technique mixed --site "upper back" \
    --notes "simulated session from cuplab-sim, seed 42" "$pty" </dev/null
wait $sim || true
trap - EXIT

echo
"$BUILD/cuplab-analyze" "$file"
echo
echo "demo: session file $file"
echo "demo: ground truth  $out/session-$stamp.truth.json"
echo "demo: read it in Python:  python3 -c \"import h5py; f=h5py.File('$file','r'); print(f['devices/dev0/samples'][:5])\""

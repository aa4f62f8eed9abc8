#!/bin/sh
# Estimands on the simulator's truth (bench/estimands.c): coverage of the
# 95 % intervals of the leak rate constant and the decay slope, median
# |error|/SE, the peak's bias and the coverage of its noise uncertainty,
# over 400 pump and 400 fire cups at 20 Hz, with steady breathing and with
# irregular breathing and AR noise.
#   BENCH_ESTIMANDS_CUPS  cups per technique (400)
set -u
BUILD=${BUILD:-build}
"$BUILD/bench/estimands" "${BENCH_ESTIMANDS_CUPS:-400}" 1

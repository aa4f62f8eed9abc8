#!/usr/bin/python3
"""Checks a recording of the cuplab firmware on the emulated board against
the board's log of every ADC conversion (cuplab-board --log: cycle, channel,
millivolts on the pin; channel -1 marks a reset).

  board_check.py binary FILE LOG --rate HZ --channels N [--min-frames K]
                  [--device NAME] [--dev I] [--restarts R]
      Device I (0) of FILE must hold at least K frames with no sequence gap, lost
      frame, checksum error or malformed frame, and the identity the firmware
      announced (protocol version 2, device serial NAME, the rate, 11-bit
      counts against a 5000 mV AVCC reference); its device clock must step
      by exactly the firmware's period (round(250000 / HZ) timer ticks of
      4 us); each frame must line up with one scan of N x 4 conversions in
      the log, its start within TIMING_US of the timer tick (the 16 MHz
      clock); and every count must be exactly what the emulated converter
      makes of the logged voltages (floor(mV * 1023 / VCC) per conversion,
      the four summed and halved), and at most 2.5 LSB below the ideal
      11-bit count of their mean, never above.  The device must restart
      (clock and sequence from 0, after a reset or replug) exactly R (0)
      times; each run between restarts is matched on its own.  With --gaps
      frames may be missing: sequence numbers (binary) and device time must
      skip them together, and the frames that came must still be exact.
  board_check.py text FILE LOG --rate HZ --channels N [--min-frames K]
                [--serials A,B,...]
      The same for a text recording (device time in us, no sequence numbers,
      no malformed line); with --serials the cups' sensor_serial must be
      A, B, ... in channel order.
"""
import argparse
import sys

import h5py
import numpy as np

F_CPU = 16_000_000
TICK_US = 4
OVERSAMPLE = 4
TIMING_US = 20.0  # interrupt latency and jitter allowed at a frame's start


def die(msg):
    print("board_check: " + msg, file=sys.stderr)
    sys.exit(1)


def scans(log, channels):
    """Start time (us since the board's start) and conversions (mV) of each
    complete scan in the log."""
    data = np.loadtxt(log, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    per = channels * OVERSAMPLE
    want = np.repeat(np.arange(channels), OVERSAMPLE)
    # a scan is N x 4 conversions in channel order; a reset of the board
    # (a row of channel -1) may cut one short, so every position is tried
    # where channel 0 begins
    t, mv = [], []
    ch = data[:, 1]
    i = 0
    zeros = np.flatnonzero(ch == 0)
    for s in zeros:
        if s < i:
            continue
        block = data[s:s + per]
        if len(block) == per and np.array_equal(block[:, 1], want):
            t.append(block[0, 0] / (F_CPU / 1e6))
            mv.append(block[:, 2].reshape(channels, OVERSAMPLE))
            i = s + per
    if not t:
        die(f"{log}: no complete scan of {channels} channels")
    return np.array(t), np.array(mv)


def match_run(t_scan, counts, samples, dtime, run):
    """The scan of each frame of one run of the device clock (its first
    frames must explain the offset), and the largest distance of a scan's
    start from its frame's device time."""
    def match(offset, k):
        i = np.clip(np.searchsorted(t_scan, dtime[k] + offset), 1, len(t_scan) - 1)
        i -= (dtime[k] + offset - t_scan[i - 1]) < (t_scan[i] - dtime[k] - offset)
        return i, t_scan[i] - (dtime[k] + offset)

    head = run[:50]
    for j in range(len(t_scan)):
        o = t_scan[j] - dtime[run[0]]
        i, r = match(o, head)
        if np.all(np.abs(r) <= TIMING_US) and np.array_equal(counts[i], samples[head]):
            break
    else:
        die(f"no scan in the log matches the frames from {run[0]} on")
    idx, resid = match(o, run)
    if np.max(np.abs(resid)) > TIMING_US:
        r = int(np.argmax(np.abs(resid)))
        die(f"frame {run[r]}: scan starts {resid[r]:+.1f} us off the device clock "
            f"(allowed {TIMING_US})")
    return idx, float(np.max(np.abs(resid)))


def check(args, protocol):
    with h5py.File(args.file, "r", swmr=True) as f:
        g = f[f"devices/dev{args.dev}"]
        counters = {k: int(g["counters"][0][k]) for k in g["counters"].dtype.names}
        samples = g["samples"][:]
        dtime = g["device_time"][:]
        seq = g["sequence"][:]
        units = g["device_time"].attrs["units"]
        ident = {k: g.attrs[k] for k in ("protocol_version", "device_serial", "rate_hz",
                                         "adc_bits", "adc_reference", "adc_reference_mv")}
        serials = [s.decode() if isinstance(s, bytes) else s
                   for s in f["cups"]["sensor_serial"]]
        if isinstance(units, bytes):
            units = units.decode()
    if args.serials is not None and serials != args.serials.split(","):
        die(f"cups' sensor serials {serials}, expected {args.serials.split(',')}")
    if units != "us":
        die(f"device time in {units!r}, expected us")
    if samples.shape[1] != args.channels:
        die(f"{samples.shape[1]} channels recorded, expected {args.channels}")
    n = len(samples)
    if n < args.min_frames:
        die(f"{n} frames recorded, expected at least {args.min_frames}")
    # a restart of the device's sequence counts as a gap (nothing lost)
    want_counters = {"checksum_errors": 0}
    if not args.gaps:
        want_counters.update(lost_frames=0,
                             seq_gaps=args.restarts if protocol == "binary" else 0)
    bad = {k: counters[k] for k, v in want_counters.items() if counters[k] != v}
    if counters["malformed"]:
        bad["malformed"] = counters["malformed"]
    if bad:
        die(f"counters {bad}")
    ident = {k: v.decode() if isinstance(v, bytes) else getattr(v, "item", lambda: v)()
             for k, v in ident.items()}
    want = {"protocol_version": 2, "device_serial": args.device, "rate_hz": args.rate,
            "adc_bits": 11, "adc_reference": "AVCC", "adc_reference_mv": args.vcc}
    wrong = {k: ident[k] for k, v in want.items() if v is not None and ident[k] != v}
    if wrong:
        die(f"identity in the file {wrong}, the firmware announced {want}")
    # The device restarts (its clock and sequence start again) after a reset
    # or a replug: each run of frames is matched on its own.
    cuts = np.flatnonzero(np.diff(dtime.astype(np.int64)) < 0) + 1
    if len(cuts) != args.restarts:
        die(f"{len(cuts)} device restarts in the recording, expected {args.restarts}")
    t_scan, mv = scans(args.log, args.channels)
    vcc = args.vcc
    counts = (mv * 1023 // vcc).sum(axis=2) >> 1  # converter, then the firmware's decimation
    idx = np.zeros(n, dtype=np.int64)
    worst = 0.0
    for run in np.split(np.arange(n), cuts):
        dseq = np.diff(seq[run].astype(np.int64))
        if protocol == "binary" and not args.gaps and np.any(dseq != 1):
            die("sequence numbers not consecutive")
        if args.rate and len(run) > 1:
            period = round(250000 / args.rate) * TICK_US
            steps = np.diff(dtime[run])
            if protocol == "binary" and args.gaps:
                # a frame left out skips its sequence number and its tick
                if np.any(dseq < 1) or np.any(steps != dseq * period):
                    die("device time steps do not follow the sequence numbers")
            elif args.gaps:
                if np.any(steps % period) or np.any(steps < period):
                    die(f"device time steps {np.unique(steps)[:5]} us, not multiples of {period}")
            elif not np.array_equal(np.unique(steps), [period]):
                die(f"device time steps {np.unique(steps)[:5]} us, expected {period}")
        idx[run], r = match_run(t_scan, counts, samples, dtime, run)
        worst = max(worst, r)
    if not np.array_equal(samples, counts[idx]):
        r, c = np.argwhere(samples != counts[idx])[0]
        die(f"frame {r} channel {c}: recorded {samples[r, c]:.0f}, the converter gives "
            f"{counts[idx][r, c]} for {mv[idx][r, c].tolist()} mV")
    ideal = 2 * mv[idx].mean(axis=2) * 1023 / vcc
    dev = samples - ideal
    if dev.max() > 0 or dev.min() < -2.5:
        die(f"counts {dev.min():+.2f}..{dev.max():+.2f} LSB off the ideal 11-bit count")
    print(f"board_check: {n} frames x {args.channels} channels equal the converter's "
          f"counts; {dev.min():+.2f}..{dev.max():+.2f} LSB from ideal; scan starts "
          f"within {worst:.2f} us of the device clock"
          + (f"; {args.restarts} restart(s)" if args.restarts else ""))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("binary", "text"))
    p.add_argument("file")
    p.add_argument("log")
    p.add_argument("--rate", type=float)
    p.add_argument("--channels", type=int, required=True)
    p.add_argument("--min-frames", type=int, default=1)
    p.add_argument("--vcc", type=int, default=5000)
    p.add_argument("--serials")
    p.add_argument("--device", default="cuplab-uno", help="the device serial announced")
    p.add_argument("--dev", type=int, default=0, help="the device's index in FILE")
    p.add_argument("--gaps", action="store_true",
                   help="frames may be missing (the firmware dropped them)")
    p.add_argument("--restarts", type=int, default=0,
                   help="device restarts (reset, replug) expected in the recording")
    args = p.parse_args()
    check(args, args.mode)


if __name__ == "__main__":
    main()

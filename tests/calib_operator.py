#!/usr/bin/env python3
"""The operator of a live calibration, for the integration tests.

Runs `cuplab-calibrate sensor --live ...` (the command after `--`), answers
its prompts on a pipe and plays the reference gauge: for every reading the
program reports, the reference value is the true mean pressure the virtual
device's sensor saw over exactly those frames, computed from the device's
ground truth (cuplab-sim --truth of the same seed) with the model of
lib/cl_sim.c.  Setpoints are timed against the device clock: a few at
ambient, several along the hold of the cup, two after its release.

usage: calib_operator.py TRUTH.json CHANNEL TIME_SCALE LOG.txt -- COMMAND...
Exit status: the program's, or 10 if the dialogue went wrong.
"""
import json
import math
import os
import re
import subprocess
import sys
import time


def settle(x, tau, window):
    if x <= 0:
        return 0.0
    if x >= window:
        return 1.0
    return -math.expm1(-x / tau) / -math.expm1(-window / tau)


class Cup:
    """A pump cup of the virtual device (cl_sim.h), from its truth entry."""

    def __init__(self, c):
        assert c["technique"] == "pump", "the operator knows pump cups only"
        self.c = c

    def stroke(self, k):
        return 0.0 if k <= 0 else self.c["stroke_kpa"][k - 1]

    def hold(self, u):
        c = self.c
        return c["p_inf_kpa"] + (c["peak_kpa"] - c["p_inf_kpa"]) * math.exp(-u / c["tau_s"])

    def pressure(self, t):
        c = self.c
        x = t - c["t_apply_s"]
        if not x >= 0:
            return 0.0
        if t < c["hold_start_s"]:
            n = max(1, c["pump_strokes"])
            iv = c["stroke_interval_s"]
            j = min(int(math.floor(x / iv)) if iv > 0 else 0, n - 1)
            a, b = self.stroke(j), self.stroke(j + 1)
            return a + (b - a) * settle(x - j * iv, 0.1, 0.5)
        if t < c["release_start_s"]:
            return self.hold(t - c["hold_start_s"])
        if c["release_s"] <= 0 or t >= c["release_start_s"] + c["release_s"]:
            return 0.0
        return self.hold(c["hold_s"]) * (1 - (t - c["release_start_s"]) / c["release_s"])

    def sample(self, t):
        """Smooth trace plus breathing and pulse ripple, before noise."""
        c = self.c
        p = self.pressure(t)
        if p == 0 or c["peak_kpa"] >= 0:
            return p
        r = c["breath_kpa"] * math.sin(2 * math.pi * c["breath_hz"] * t + c["breath_phase_rad"])
        r += c["pulse_kpa"] * math.sin(2 * math.pi * c["pulse_hz"] * t + c["pulse_phase_rad"])
        return p + p / c["peak_kpa"] * r


def main():
    sep = sys.argv.index("--")
    truth_path, channel, scale, log_path = sys.argv[1:sep]
    cmd = sys.argv[sep + 1:]
    truth = json.load(open(truth_path))
    cup = Cup(truth["cups"][int(channel)])
    rate = truth["rate_hz"]
    c = cup.c
    scale = float(scale)
    hold0, hold1 = c["hold_start_s"] + 3, c["release_start_s"] - 5
    targets = [None, None, None]  # ambient, as soon as possible
    targets += [hold0 + i * (hold1 - hold0) / 6 for i in range(7)]
    targets += [c["release_start_s"] + c["release_s"] + 3 + 3 * i for i in range(2)]
    log = open(log_path, "w")

    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    fd = proc.stderr.fileno()
    buf = ""
    sync = None  # (wall clock, device seconds) at the last reading
    reading = None
    done = 0

    def device_now():
        return None if sync is None else sync[1] + (time.monotonic() - sync[0]) * scale

    def answer(text):
        log.write(">> %r\n" % text)
        log.flush()
        try:
            proc.stdin.write(text.encode())
            proc.stdin.flush()
        except BrokenPipeError:  # the program ended (the device went away)
            pass

    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk.decode(errors="replace")
        log.write(chunk.decode(errors="replace"))
        log.flush()
        while True:
            m = re.search(r"\(q to finish\): |\(Enter to discard\): ", buf)
            if not m:
                break
            before, buf = buf[: m.end()], buf[m.end():]
            for r in re.finditer(r"raw ([-0-9.]+) counts \(SD [-0-9.]+, (\d+) samples, "
                                 r"device time ([-0-9.e+]+)\.\.([-0-9.e+]+)\)", before):
                reading = (float(r.group(1)), int(r.group(2)), float(r.group(3)),
                           float(r.group(4)))
                sync = (time.monotonic(), reading[3] / 1000.0)
            if m.group(0).startswith("(q"):
                if done == len(targets):
                    answer("q\n")
                    continue
                target = targets[done]
                while target is not None and device_now() is not None and device_now() < target:
                    time.sleep(0.01)
                answer("\n")
            else:
                raw, n, t0, t1 = reading
                frames = [t0 + 10.0 * k for k in range(int(round((t1 - t0) / 10.0)) + 1)]
                if len(frames) != n or abs(1000.0 / rate - 10.0) > 1e-9:
                    log.write("!! %d samples over %g..%g ms are not consecutive frames\n"
                              % (n, t0, t1))
                    proc.kill()
                    sys.exit(10)
                ref = sum(cup.sample(ms / 1000.0) for ms in frames) / n
                answer("%.9f kPa\n" % ref)
                done += 1
    rc = proc.wait()
    log.write("\n[exit %d after %d points]\n" % (rc, done))
    sys.exit(rc if done == len(targets) or rc != 0 else 10)


if __name__ == "__main__":
    main()

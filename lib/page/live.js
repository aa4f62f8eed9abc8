/* cuplab live view: the snapshots of /events drawn per cup, marker buttons
 * posting to /marker (none in a read-only view).  No libraries, nothing
 * fetched from elsewhere. */
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const COMMANDS = ["applied", "released", "moved", "repumped"];
const MARKS = ["applied", "released", "moved", "repumped", "note"];
const state = { snap: null, t: [], values: [], last: 0, built: false, sent: {}, window: null };

function $(id) { return document.getElementById(id); }

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

/* A cup's value in the chosen unit (calibrated cups) or raw counts. */
function shown(cup, v) {
  if (v === null || v === undefined) return null;
  if (!cup.calibrated) return v;
  return v / state.snap.units[$("unit").value];
}

/* x with n decimals, never "-0". */
function fixed(x, n) { return x.toFixed(n).replace(/^-(0(\.0*)?)$/, "$1"); }

function unitOf(cup) { return cup.calibrated ? $("unit").value : "raw counts"; }

function fmtAge(s) {
  if (s === null || s === undefined) return "–";
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
  return Math.floor(s / 60) + " min " + Math.floor(s % 60) + " s";
}

function buildCups(snap) {
  const box = $("cups");
  box.textContent = "";
  snap.cups.forEach((c) => {
    const card = el("div", { class: "cup", id: "cup-" + c.id });
    const head = el("div", { class: "head" });
    head.append(el("h2", {}, c.id + (c.sensor ? " (" + c.sensor + ")" : "")));
    const val = el("span", { class: "value", id: "value-" + c.id, "data-cup": c.id }, "–");
    head.append(val, el("span", { class: "unit", id: "unit-" + c.id }, unitOf(c)));
    card.append(head);
    card.append(el("div", { class: "applied", id: "since-" + c.id },
                   c.calibrated ? "not applied" : "no sensor profile: raw counts"));
    if (c.calibrated)
      card.append(el("div", { class: "phase", id: "phase-" + c.id }, "–"));
    if (c.calibrated && snap.target)
      card.append(el("div", { class: "target", id: "target-" + c.id }, "–"));
    card.append(el("div", { class: "warn", id: "warn-" + c.id, hidden: "" },
                   "SENSOR SATURATED: the reading is at the end of the ADC's range"));
    card.append(el("canvas", { id: "trace-" + c.id, width: 760, height: 280 }));
    if (!snap.read_only)
      COMMANDS.forEach((cmd) =>
        card.append(el("button", { "data-cmd": cmd, "data-cup": c.id, id: cmd + "-" + c.id }, cmd)));
    box.append(card);
  });
  if (snap.read_only) {
    document.querySelectorAll("#all button, #all input").forEach((b) => { b.disabled = true; });
    $("all").hidden = true;
    $("marker-log").hidden = true;
    $("mode").hidden = false;
  }
  state.built = true;
  if (state.window === null) state.window = snap.history.seconds;
}

/* The visible span, s: the window chosen (select or mouse wheel). */
function setWindow(s) {
  const h = state.snap.history.seconds;
  state.window = Math.min(h, Math.max(10, s));
  const sel = $("window");
  sel.value = [...sel.options].some((o) => +o.value === state.window) ? String(state.window) : "";
  state.snap.cups.forEach((c, k) => draw(k, c));
}

function merge(snap) {
  const h = snap.history;
  if (h.first !== state.last + 1 || state.values.length !== snap.cups.length) {
    state.t = [];
    state.values = snap.cups.map(() => []);
  }
  state.t.push(...h.t);
  h.values.forEach((v, k) => state.values[k].push(...v));
  if (h.last) state.last = h.last;
  const t1 = state.t[state.t.length - 1];
  let old = 0;
  while (old < state.t.length && state.t[old] < t1 - h.seconds) old++;
  if (old > 0) { state.t.splice(0, old); state.values.forEach((v) => v.splice(0, old)); }
}

function draw(k, cup) {
  const cv = $("trace-" + cup.id), g = cv.getContext("2d");
  const W = cv.width, H = cv.height, L = 70, B = 30;
  g.clearRect(0, 0, W, H);
  const ts = state.t, vs = state.values[k].map((v) => shown(cup, v));
  if (!ts.length) return;
  const t1 = ts[ts.length - 1], t0 = Math.max(ts[0], t1 - state.window);
  let lo = Infinity, hi = -Infinity;
  vs.forEach((v, i) => {
    if (v !== null && ts[i] >= t0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  });
  const tg = cup.calibrated && state.snap.target;
  const band = tg && [shown(cup, tg.vacuum_kpa - tg.band_kpa), shown(cup, tg.vacuum_kpa + tg.band_kpa)];
  if (cup.calibrated) lo = Math.min(lo, 0);
  if (band) hi = Math.max(hi, band[1]);
  if (!isFinite(lo)) return;
  if (hi - lo < 1e-9) { hi += 1; lo -= 1; }
  const x = (t) => L + (W - L - 10) * (t - t0) / Math.max(t1 - t0, 1);
  const y = (v) => 10 + (H - B - 10) * (hi - v) / (hi - lo);
  if (band) {
    g.fillStyle = "rgba(26, 127, 55, 0.15)";
    g.fillRect(L, y(band[1]), W - L - 10, y(band[0]) - y(band[1]));
  }
  g.strokeStyle = "#999"; g.lineWidth = 1;
  state.snap.events.forEach((e) => {
    if (!MARKS.includes(e.kind) || (e.cup !== null && e.cup !== cup.id) || e.t < t0 || e.t > t1)
      return;
    g.beginPath(); g.moveTo(x(e.t), 10); g.lineTo(x(e.t), H - B); g.stroke();
  });
  g.strokeStyle = "#bbb"; g.fillStyle = "#444"; g.font = "20px sans-serif";
  g.strokeRect(L, 10, W - L - 10, H - B - 10);
  g.fillText(fixed(hi, hi - lo < 10 ? 1 : 0), 4, 28);
  g.fillText(fixed(lo, hi - lo < 10 ? 1 : 0), 4, H - B);
  g.fillText((t1 - t0).toFixed(0) + " s", W - 70, H - 6);
  g.strokeStyle = "#1f6feb"; g.lineWidth = 2; g.beginPath();
  let pen = false;
  ts.forEach((t, i) => {
    if (t < t0 || vs[i] === null) { pen = false; return; }
    if (pen) g.lineTo(x(t), y(vs[i])); else g.moveTo(x(t), y(vs[i]));
    pen = true;
  });
  g.stroke();
}

function render(snap) {
  state.snap = snap;
  if (!snap.recording) return;
  if (!state.built) buildCups(snap);
  merge(snap);
  $("clock").textContent = "recording " + fmtAge(snap.t);
  snap.cups.forEach((c, k) => {
    const v = shown(c, c.value);
    const digits = c.calibrated && $("unit").value === "kPa" ? 2 : 0;
    $("value-" + c.id).textContent =
      v === null ? "–" : fixed(v, digits);
    $("unit-" + c.id).textContent = unitOf(c);
    if (c.calibrated) {
      $("since-" + c.id).textContent =
        c.applied_s === null ? "not applied" : "applied " + fmtAge(c.applied_s);
      const ph = $("phase-" + c.id);
      const leak = shown(c, c.leak_kpa_min);
      ph.textContent = (c.phase || "–") + (leak === null ? "" :
        ", leak " + fixed(leak, 1) + " " + unitOf(c) + "/min (" + fixed(c.leak_pct_min, 1) +
        " %/min)" + (c.leaking ? ": LEAKING" : ""));
      ph.className = "phase" + (c.leaking ? " bad" : "");
      $("cup-" + c.id).classList.toggle("leaking", c.leaking);
    }
    const tgt = $("target-" + c.id);
    if (tgt) {
      const g = snap.target, d = digits;
      let text = "target " + fixed(shown(c, g.vacuum_kpa), d) + " ± " + fixed(shown(c, g.band_kpa), d) +
        " " + unitOf(c) + (c.target ? ": " + c.target : "");
      if (g.duration_s !== null && c.applied_s !== null)
        text += ", " + fmtAge(Math.min(c.applied_s, g.duration_s)) + " of " + fmtAge(g.duration_s) +
          (c.applied_s >= g.duration_s ? " (time reached)" : "");
      tgt.textContent = text;
      tgt.className = "target" + (c.target === "within" ? " good" : c.target ? " off" : "");
    }
    $("warn-" + c.id).hidden = !c.saturated;
    $("cup-" + c.id).classList.toggle("saturated", c.saturated);
    draw(k, c);
  });
  const body = $("devices").tBodies[0];
  body.textContent = "";
  snap.devices.forEach((d) => {
    const tr = el("tr");
    const cells = [d.port, d.connected ? "connected" : "disconnected", d.rate_hz.toFixed(1),
      fmtAge(d.since_frame_s), d.frames, d.checksum_errors, d.malformed, d.seq_gaps,
      d.lost_frames, d.overruns, d.reconnects];
    cells.forEach((c, i) => {
      const td = el("td", {}, String(c));
      if (i === 1) td.className = d.connected ? "good" : "bad";
      tr.append(td);
    });
    body.append(tr);
  });
  const evs = $("events");
  evs.textContent = "";
  snap.events.slice().reverse().forEach((e) => {
    evs.append(el("li", { class: "event " + e.kind, "data-kind": e.kind, "data-t": e.t },
                  fmtAge(e.t) + "  " + e.kind + (e.cup ? " " + e.cup : "") +
                  (e.text ? ": " + e.text : "")));
  });
  const list = $("markers");
  list.textContent = "";
  snap.markers.slice().sort((a, b) => b.id - a.id).forEach((m) => {
    const li = el("li", { class: m.state, id: "marker-" + m.id, "data-state": m.state },
                  m.command + ": " + m.state + (m.why ? " (" + m.why + ")" : ""));
    list.append(li);
  });
}

function send(command) {
  fetch("/marker", { method: "POST", body: command,
                     headers: { "X-Cuplab-Token": token, "Content-Type": "text/plain" } })
    .then((r) => r.json().then((j) => ({ ok: r.ok, j })))
    .then(({ ok, j }) => {
      const li = el("li", { class: ok ? "queued" : "rejected" },
                    command + ": " + (ok ? "queued" : "refused (" + j.error + ")"));
      if (ok) li.id = "marker-" + j.id;
      $("markers").prepend(li);
    })
    .catch((e) => $("markers").prepend(el("li", { class: "rejected" }, command + ": " + e)));
}

document.addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-cmd]");
  if (b) send(b.dataset.cmd + " " + b.dataset.cup);
});
$("note-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("note").value.trim();
  if (text) send("note " + text);
  $("note").value = "";
});
$("window").addEventListener("change", () => {
  if ($("window").value && state.snap) setWindow(+$("window").value);
});
document.addEventListener("wheel", (ev) => {
  if (!ev.target.matches("canvas") || !state.snap || !state.built) return;
  ev.preventDefault();
  setWindow(state.window * (ev.deltaY > 0 ? 1.25 : 0.8));
}, { passive: false });
$("unit").addEventListener("change", () => state.snap && state.snap.recording &&
  state.snap.cups.forEach((c, k) => draw(k, c)));

function connect() {
  const es = new EventSource("/events" + (token ? "?token=" + encodeURIComponent(token) : ""));
  es.addEventListener("snapshot", (ev) => {
    $("link").textContent = "live"; $("link").className = "good";
    render(JSON.parse(ev.data));
  });
  es.onerror = () => {
    $("link").textContent = "connection lost, retrying";
    $("link").className = "bad";
  };
}
connect();

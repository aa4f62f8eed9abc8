/* sim/truth: writes the ground truth of a cuplab-sim run as JSON. */
#include "truth.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "cl_log.h"
#include "cl_metrics.h"
#include "cl_sim.h"
#include "cl_units.h"

int sim_truth_open(sim_truth *t, const char *path)
{
    *t = (sim_truth){.path = path};
    if (!path)
        return 0;
    t->f = fopen(path, "w");
    if (!t->f) {
        cl_log(CL_LOG_ERROR, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

void sim_truth_close(sim_truth *t)
{
    if (t->f)
        fclose(t->f);
    t->f = NULL;
}

static json_t *seqs_json(const sim_seqs *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->n; i++)
        json_array_append_new(a, json_integer((json_int_t)v->v[i]));
    return a;
}

static json_t *cup_json(const cl_sim_cup *c, int channel, double rate_hz)
{
    json_t *strokes = json_array();
    for (int k = 1; k <= c->pump_strokes; k++)
        json_array_append_new(strokes, json_real(cl_sim_stroke_kpa(c, k)));
    json_t *j = json_pack(
        "{s:i, s:s, s:f, s:i, s:f, s:o, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
        "s:f}",
        "channel", channel, "technique", cl_sim_technique_name(c->technique), "t_apply_s",
        c->t_apply_s, "pump_strokes", c->pump_strokes, "stroke_interval_s",
        c->stroke_interval_s, "stroke_kpa", strokes, "peak_kpa", c->peak_kpa, "peak_mmhg",
        c->peak_kpa / CL_KPA_PER_MMHG, "fire_initial_kpa", c->fire_initial_kpa,
        "cool_tau_s", c->cool_tau_s, "hold_start_s", cl_sim_hold_start(c), "hold_s", c->hold_s,
        "release_start_s", cl_sim_release_start(c), "release_end_s", cl_sim_release_end(c),
        "release_s", c->release_s, "tau_s", c->tau_s, "p_inf_kpa", c->p_inf_kpa);
    if (!j)
        return NULL;
    const struct {
        const char *key;
        double v;
    } more[] = {
        {"p_hold_start_kpa", cl_sim_pressure_kpa(c, cl_sim_hold_start(c))},
        {"p_release_start_kpa", cl_sim_pressure_kpa(c, cl_sim_release_start(c))},
        {"noise_kpa", c->noise_kpa},
        {"breath_kpa", c->breath_kpa},
        {"breath_hz", c->breath_hz},
        {"breath_phase_rad", c->breath_phase_rad},
        {"pulse_kpa", c->pulse_kpa},
        {"pulse_hz", c->pulse_hz},
        {"pulse_phase_rad", c->pulse_phase_rad},
        {"breath_drift", c->breath_drift},
        {"breath_mod1_hz", c->breath_mod_hz[0]},
        {"breath_mod1_phase_rad", c->breath_mod_phase_rad[0]},
        {"breath_mod2_hz", c->breath_mod_hz[1]},
        {"breath_mod2_phase_rad", c->breath_mod_phase_rad[1]},
        {"ar_noise_kpa", c->disturb_kpa},
        {"ar_noise_tau_s", c->disturb_tau_s},
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        json_object_set_new(j, more[i].key, json_real(more[i].v));
    /* The hold's estimands over the window the analysis fits when it finds
     * the hold where it is (its default settling and release guard). */
    cl_metrics_params mp;
    cl_metrics_defaults(&mp);
    double w0 = cl_sim_hold_start(c) + mp.settle_s, w1 = cl_sim_release_start(c) - mp.release_guard_s;
    cl_sim_hold_truth h;
    cl_sim_hold_estimands(c, w0, w1, rate_hz, mp.fit_bin_s, &h);
    json_t *hj = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "window_start_s", w0,
                           "window_end_s", w1, "leak_k_per_min", h.k_per_min,
                           "decay_slope_kpa_min", h.slope_kpa_min, "mean_kpa", h.mean_kpa,
                           "leak_rel_rate_pct_min", h.rel_pct_min);
    if (hj)
        json_object_set_new(j, "hold", hj);
    return j;
}

static json_t *sensor_json(const sim_session *ses, int i)
{
    const cl_sim_sensor *s = &ses->sensor[i];
    return json_pack("{s:i, s:s, s:f, s:f, s:i, s:i, s:f}", "channel", i + 1, "serial",
                     ses->serial[i], "gain", s->gain, "offset", s->offset, "adc_bits",
                     s->adc_bits, "adc_max", (int)cl_sim_sensor_max(s), "sensitivity_per_kpa",
                     CL_NOMINAL_SENSITIVITY_PER_KPA);
}

static json_t *disconnect_json(const sim_options *o, const sim_outage *plan,
                               const sim_unplug *u)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:b, s:b, s:I, s:I, s:I, s:s}", "t_start_s",
                     plan->t_s, "t_end_s", u->resume_s, "sim_s",
                     sim_options_outage_sim_s(o, plan->wall_s), "wall_s", plan->wall_s,
                     "performed", u->done, "reconnected", u->reconnected, "first_seq",
                     (json_int_t)u->first_seq, "frames_lost", (json_int_t)u->lost,
                     "unread_bytes_at_close", (json_int_t)u->unread_bytes, "path", u->path);
}

/* The settings the session was made with. */
static void put_settings(json_t *root, const sim_options *o, const sim_session *ses)
{
    json_object_set_new(root, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(root, "device_id", json_string(ses->device_id));
    json_object_set_new(root, "protocol", json_string(cl_wire_protocol_name(o->proto)));
    json_object_set_new(root, "time_units",
                        json_string(o->proto == CL_WIRE_BINARY ? "us"
                                    : o->no_time               ? "none"
                                                               : "ms"));
    json_object_set_new(root, "checksum", json_boolean(o->checksum));
    json_object_set_new(root, "labels", json_boolean(o->labels));
    json_object_set_new(root, "with_time", json_boolean(!o->no_time));
    json_object_set_new(root, "rate_hz", json_real(o->rate_hz));
    json_object_set_new(root, "duration_s", json_real(o->duration_s));
    json_object_set_new(root, "time_scale", json_real(o->time_scale));
    json_object_set_new(
        root, "technique",
        json_string(o->technique ? cl_sim_technique_name(o->technique) : "mixed"));
    json_object_set_new(root, "start_s", json_real(o->start_s));
    json_object_set_new(root, "channels", json_integer(o->cups));
    json_object_set_new(root, "adc_bits", json_integer(o->adc_bits));
    json_object_set_new(root, "garbage_probability", json_real(o->garbage_p));
    json_object_set_new(root, "baud_garbage", json_boolean(o->baud_garbage));
}

/* What was sent, dropped, garbled and lost. */
static void put_tallies(json_t *root, const sim_stream *st)
{
    const struct {
        const char *key;
        uint64_t n;
    } count[] = {
        {"frames_total", st->ses->nframes},   {"frames_sent", st->sent},
        {"frames_dropped", st->dropped},      {"frames_garbled", st->garbled},
        {"frames_lost_disconnect", st->lost}, {"junk_bursts", st->junk_bursts},
        {"junk_bytes", st->junk_bytes},       {"baud_garbage_bytes", st->baud_bytes},
        {"bytes_written", st->bytes_written},
    };
    for (size_t i = 0; i < sizeof count / sizeof count[0]; i++)
        json_object_set_new(root, count[i].key, json_integer((json_int_t)count[i].n));
    json_object_set_new(root, "dropped_seq", seqs_json(&st->dropped_seq));
    json_object_set_new(root, "garbled_seq", seqs_json(&st->garbled_seq));
}

/* The practitioner style and what the session drew from it (--vacuum...). */
static json_t *style_json(const sim_options *o, const sim_session *ses)
{
    const sim_style *s = &o->style;
    /* The options were read through cl_units: converted back the same way. */
    return json_pack("{s:f, s:f, s:i, s:i, s:f, s:f, s:f, s:f, s:f}", "vacuum_mmhg",
                     cl_unit_from_kpa(s->vacuum_kpa, CL_UNIT_MMHG), "vacuum_sd_mmhg",
                     cl_unit_from_kpa(s->vacuum_sd_kpa, CL_UNIT_MMHG), "strokes_min", s->strokes_min,
                     "strokes_max", s->strokes_max, "hold_s", s->hold_s, "hold_sd_s",
                     s->hold_sd_s, "variability", s->variability, "session_vacuum_factor",
                     ses->style.vacuum_factor, "session_hold_factor", ses->style.hold_factor);
}

/* What both modes record: generator, status, settings, cups, sensors. */
static json_t *record(const sim_options *o, const sim_session *ses, const char *status)
{
    json_t *root = json_object(), *cups = json_array(), *sensors = json_array();
    for (int i = 0; i < o->cups; i++) {
        json_t *c = cup_json(&ses->cup[i], i + 1, o->rate_hz);
        if (c && o->nsites) {
            json_object_set_new(c, "cup_id", json_string(ses->cup_id[i]));
            json_object_set_new(c, "site", json_string(o->site[i].name));
            json_object_set_new(c, "size", json_stringn(&o->site[i].size, 1));
        }
        json_array_append_new(cups, c);
        json_array_append_new(sensors, sensor_json(ses, i));
    }
    json_object_set_new(root, "generator", json_string(SIM_PROG " " CUPLAB_VERSION));
    json_object_set_new(root, "status", json_string(status));
    put_settings(root, o, ses);
    if (o->styled)
        json_object_set_new(root, "style", style_json(o, ses));
    json_object_set_new(root, "cups", cups);
    json_object_set_new(root, "sensors", sensors);
    return root;
}

/* Write root to the truth file and close it.  Returns 0, or -1 (logged). */
static int finish(sim_truth *t, json_t *root)
{
    int rc =
        json_dumpf(root, t->f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (rc == 0)
        rc = fputc('\n', t->f) == EOF ? -1 : 0;
    if (fclose(t->f) != 0)
        rc = -1;
    t->f = NULL;
    if (rc < 0)
        cl_log(CL_LOG_ERROR, "cannot write %s: %s", t->path, strerror(errno));
    return rc;
}

int sim_truth_write(sim_truth *t, const sim_stream *st, const char *status)
{
    const sim_options *o = st->o;
    if (!t->f)
        return 0;
    json_t *root = record(o, st->ses, status), *discs = json_array(), *paths = json_array();
    for (int i = 0; i < o->noutages; i++)
        json_array_append_new(discs, disconnect_json(o, &o->outage[i], &st->unplug[i]));
    for (int i = 0; i < st->pty.npaths; i++)
        json_array_append_new(paths, json_string(st->pty.paths[i]));
    put_tallies(root, st);
    json_object_set_new(root, "disconnects", discs);
    json_object_set_new(root, "pty_paths", paths);
    return finish(t, root);
}

int sim_truth_write_file(sim_truth *t, const sim_options *o, const sim_session *ses,
                         const sim_truth_file *f)
{
    if (!t->f)
        return 0;
    json_t *root = record(o, ses, "complete");
    json_object_set_new(root, "file", json_string(o->output));
    json_object_set_new(root, "session_uuid", json_string(f->uuid));
    json_object_set_new(root, "created_utc", json_string(f->created_utc));
    json_object_set_new(root, "ended_utc", json_string(f->ended_utc));
    json_object_set_new(root, "practitioner", json_string(o->practitioner ? o->practitioner : ""));
    json_object_set_new(root, "subject", json_string(o->subject ? o->subject : ""));
    json_object_set_new(root, "cup_set", json_string(o->cup_set ? o->cup_set : ""));
    json_object_set_new(root, "frames_total", json_integer((json_int_t)ses->nframes));
    json_object_set_new(root, "markers", json_boolean(o->markers));
    return finish(t, root);
}

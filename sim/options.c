/* sim/options: getopt_long parsing and validation of the cuplab-sim command
 * line, and the --help text. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_cli.h"
#include "cl_output.h"
#include "cl_sim.h"
#include "cl_units.h"
#include "cl_version.h"

static const char usage[] =
    "Usage: " SIM_PROG " [OPTION]...\n"
    "Virtual cupping-pressure device.  Opens a pseudo-terminal, prints its path as\n"
    "the first line on stdout, waits for a reader and streams simulated readings of\n"
    "one vacuum sensor per cup.\n"
    "\n"
    "Session:\n"
    "  -n, --cups N           cups (= channels), 1..32 (default 4)\n"
    "  -r, --rate HZ          frames per second (default 100)\n"
    "  -d, --duration S       simulated session length in seconds (default 600)\n"
    "  -x, --time-scale X     simulated seconds per wall-clock second (default 1;\n"
    "                         0 = as fast as the reader takes them)\n"
    "  -s, --seed N           random seed (default 1)\n"
    "  -t, --technique T      pump, fire or mixed (alternating; default mixed)\n"
    "      --start S          first cup applied at S seconds (default 5); the\n"
    "                         others follow a few seconds apart\n"
    "      --adc-bits B       ADC resolution, 8..16 bits (default 12)\n"
    "      --sites LIST       one cup per body site, NAME[:SIZE] comma-separated,\n"
    "                         SIZE S, M (default) or L; sets --cups\n"
    "      --sensor-seed N    draw the sensors from their own seed (serials\n"
    "                         SIMS-N-01, ...): sessions of any --seed then share them\n"
    "Practitioner style (any of these replaces the default random cups):\n"
    "      --vacuum P[:SD]    aimed-for vacuum and its SD from cup to cup (default\n"
    "                         300:20; bare numbers in mmHg, or with a unit: 40kPa);\n"
    "                         times 0.9 for S and 1.1 for L cups\n"
    "      --strokes N[-M]    pump strokes per cup, N to M (default 2-4)\n"
    "      --hold S[:SD]      hold in seconds (or 10min) and its SD (default 600:60)\n"
    "      --variability X    SD of each session's relative shift of vacuum and hold\n"
    "                         (default 0.05)\n"
    "Physiology and noise:\n"
    "      --breathing B      steady (default) or irregular: each cup's breathing\n"
    "                         frequency drifts within +-20 % (over 50-200 s)\n"
    "      --ar-noise SD[:TAU]  add slow AR(1) noise to every cup's signal: SD\n"
    "                         (bare numbers in mmHg, or with a unit) and correlation\n"
    "                         time TAU (seconds, default 2.5)\n"
    "Wire format:\n"
    "  -p, --protocol P       text or binary (default text)\n"
    "      --checksum         text: append an NMEA-style *XX checksum\n"
    "      --no-time          text: no device timestamp column\n"
    "      --labels           text: label:value pairs (ms:1234,c1:2890,...)\n"
    "Faults:\n"
    "      --garbage P        per frame, probability P of junk bytes before it or\n"
    "                         of corrupting it (half each)\n"
    "      --baud-garbage     start with a burst of bytes as from a wrong baud rate\n"
    "      --drop N           leave out N random frames (sequence gaps)\n"
    "      --disconnect T:D   unplug at simulated time T for D wall-clock seconds,\n"
    "                         then come back on a new pty (repeatable); the frames\n"
    "                         of D*X simulated seconds (D if X = 0) are lost\n"
    "Session file (no pty):\n"
    "  -o, --output FILE      write the whole session into FILE (HDF5, as\n"
    "                         cuplab-acquire records it) and exit; host time =\n"
    "                         device time; the same options give the same bytes\n"
    "      --force            replace an existing FILE\n"
    "      --practitioner ID  --subject ID   metadata of the session\n"
    "      --cup-set ID       cup set named in the cup table (cup ids S1, M1, L1, ...\n"
    "                         by size with --sites, else C1, C2, ...)\n"
    "      --created TIME     creation time, YYYY-MM-DDThh:mm:ssZ (default\n"
    "                         2025-01-01T09:00:00Z); the end time follows from it\n"
    "      --uuid UUID        session UUID (default: derived from the options)\n"
    "      --profile FILE     calibration profile to copy into the file (repeatable)\n"
    "      --markers          add the 'applied' and 'released' markers an observer\n"
    "                         would type (0.5..2 s late)\n"
    "      --calibration-points DIR  write DIR/SERIAL.csv per sensor: readings at\n"
    "                         0..-600 mmHg, up and down, twice, against a simulated\n"
    "                         reference gauge (for cuplab-calibrate sensor)\n"
    "Files and timing:\n"
    "      --link PATH        keep a symlink PATH -> the current pty (removed while\n"
    "                         unplugged and at exit)\n"
    "      --truth FILE       write the ground truth (JSON)\n"
    "      --log FILE         write every frame sent intact (CSV)\n"
    "      --wait S           wait at most S seconds for a reader (default 30)\n"
    "      --linger S         after the session, wait at most S seconds for the\n"
    "                         reader to close (default 2)\n"
    "  -v, --verbose          report progress on stderr\n"
    "  -q, --quiet            report errors only\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show the version and the library versions, exit\n"
    "\n"
    "Text frames start with the device time in milliseconds, binary frames carry\n"
    "it in microseconds and a sequence number counting from 0.  A new pty path is\n"
    "printed on stdout after each reconnect.\n"
    "Exit status: 0 done (also when the reader closed or on SIGINT/SIGTERM),\n"
    "1 error, 2 invalid usage or an --output FILE that exists, 3 no reader within\n"
    "--wait.\n";

enum {
    OPT_START = 256,
    OPT_ADC_BITS,
    OPT_CHECKSUM,
    OPT_NO_TIME,
    OPT_LABELS,
    OPT_GARBAGE,
    OPT_BAUD_GARBAGE,
    OPT_DROP,
    OPT_DISCONNECT,
    OPT_LINK,
    OPT_TRUTH,
    OPT_LOG,
    OPT_WAIT,
    OPT_LINGER,
    OPT_SITES,
    OPT_SENSOR_SEED,
    OPT_VACUUM,
    OPT_STROKES,
    OPT_HOLD,
    OPT_VARIABILITY,
    OPT_BREATHING,
    OPT_AR_NOISE,
    OPT_FORCE,
    OPT_PRACTITIONER,
    OPT_SUBJECT,
    OPT_CUP_SET,
    OPT_CREATED,
    OPT_UUID,
    OPT_PROFILE,
    OPT_MARKERS,
    OPT_POINTS,
};

static const struct option longopts[] = {
    {"cups", required_argument, NULL, 'n'},
    {"rate", required_argument, NULL, 'r'},
    {"duration", required_argument, NULL, 'd'},
    {"time-scale", required_argument, NULL, 'x'},
    {"seed", required_argument, NULL, 's'},
    {"technique", required_argument, NULL, 't'},
    {"protocol", required_argument, NULL, 'p'},
    {"start", required_argument, NULL, OPT_START},
    {"adc-bits", required_argument, NULL, OPT_ADC_BITS},
    {"checksum", no_argument, NULL, OPT_CHECKSUM},
    {"no-time", no_argument, NULL, OPT_NO_TIME},
    {"labels", no_argument, NULL, OPT_LABELS},
    {"garbage", required_argument, NULL, OPT_GARBAGE},
    {"baud-garbage", no_argument, NULL, OPT_BAUD_GARBAGE},
    {"drop", required_argument, NULL, OPT_DROP},
    {"disconnect", required_argument, NULL, OPT_DISCONNECT},
    {"link", required_argument, NULL, OPT_LINK},
    {"truth", required_argument, NULL, OPT_TRUTH},
    {"log", required_argument, NULL, OPT_LOG},
    {"wait", required_argument, NULL, OPT_WAIT},
    {"linger", required_argument, NULL, OPT_LINGER},
    {"sites", required_argument, NULL, OPT_SITES},
    {"sensor-seed", required_argument, NULL, OPT_SENSOR_SEED},
    {"vacuum", required_argument, NULL, OPT_VACUUM},
    {"strokes", required_argument, NULL, OPT_STROKES},
    {"hold", required_argument, NULL, OPT_HOLD},
    {"variability", required_argument, NULL, OPT_VARIABILITY},
    {"breathing", required_argument, NULL, OPT_BREATHING},
    {"ar-noise", required_argument, NULL, OPT_AR_NOISE},
    {"output", required_argument, NULL, 'o'},
    {"force", no_argument, NULL, OPT_FORCE},
    {"practitioner", required_argument, NULL, OPT_PRACTITIONER},
    {"subject", required_argument, NULL, OPT_SUBJECT},
    {"cup-set", required_argument, NULL, OPT_CUP_SET},
    {"created", required_argument, NULL, OPT_CREATED},
    {"uuid", required_argument, NULL, OPT_UUID},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"markers", no_argument, NULL, OPT_MARKERS},
    {"calibration-points", required_argument, NULL, OPT_POINTS},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

#define usage_error(...) cl_cli_usage_error(SIM_PROG, SIM_EXIT_USAGE, __VA_ARGS__)

/* The long name of option `code`, for messages. */
static const char *option_name(int code)
{
    const struct option *p = longopts;
    while (p->name && p->val != code)
        p++;
    return p->name ? p->name : "?";
}

static bool parse_ulong(const char *s, unsigned long long hi, unsigned long long *out)
{
    char *end;
    if (*s == '-' || *s == '\0')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_int(const char *s, int lo, int hi, int *out)
{
    unsigned long long v;
    if (!parse_ulong(s, (unsigned long long)hi, &v) || v < (unsigned long long)lo)
        return false;
    *out = (int)v;
    return true;
}

/* T:D, both in seconds. */
static bool parse_outage(char *s, sim_outage *out)
{
    char *colon = strchr(s, ':');
    double t, w;
    if (!colon)
        return false;
    *colon = '\0';
    bool ok = cl_cli_double(s, 0, 1e7, &t) && cl_cli_double(colon + 1, 0, 3600, &w);
    *colon = ':';
    if (ok)
        *out = (sim_outage){.t_s = t, .wall_s = w};
    return ok;
}

/* NAME[:SIZE],... into o->site; sets o->cups. */
static bool parse_sites(const char *s, sim_options *o)
{
    o->nsites = 0;
    while (*s) {
        const char *end = strchr(s, ','), *colon;
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (o->nsites == SIM_MAX_CUPS || len == 0)
            return false;
        sim_site *site = &o->site[o->nsites++];
        colon = memchr(s, ':', len);
        size_t nlen = colon ? (size_t)(colon - s) : len;
        site->size = 'M';
        if (colon) {
            if (len - nlen != 2 || !strchr("SML", colon[1]))
                return false;
            site->size = colon[1];
        }
        if (nlen == 0 || nlen >= SIM_NAME)
            return false;
        memcpy(site->name, s, nlen);
        site->name[nlen] = '\0';
        s += len;
        if (*s == ',' && *++s == '\0')
            return false;
    }
    o->cups = o->nsites;
    return o->nsites > 0;
}

/* A vacuum, positive: "300" (mmHg), "40kPa", "-300 mmHg". */
static bool parse_vacuum(const char *s, double *kpa)
{
    cl_error err;
    if (cl_unit_parse_kpa(s, CL_UNIT_BARE, kpa, &err) != CL_OK)
        return false;
    *kpa = fabs(*kpa);
    return *kpa <= -CL_SIM_LIMIT_KPA;
}

/* "A[:B]" split at the colon into buffers a and b ("" when absent). */
static bool split_pair(const char *s, char *a, char *b, size_t cap)
{
    const char *colon = strchr(s, ':');
    size_t la = colon ? (size_t)(colon - s) : strlen(s);
    if (la == 0 || la >= cap || (colon && (strlen(colon + 1) == 0 || strlen(colon + 1) >= cap)))
        return false;
    memcpy(a, s, la);
    a[la] = '\0';
    snprintf(b, cap, "%s", colon ? colon + 1 : "");
    return true;
}

/* --vacuum P[:SD] */
static bool parse_vacuum_opt(const char *s, sim_style *st)
{
    char a[64], b[64];
    if (!split_pair(s, a, b, sizeof a) || !parse_vacuum(a, &st->vacuum_kpa) ||
        st->vacuum_kpa <= 0)
        return false;
    return !b[0] || parse_vacuum(b, &st->vacuum_sd_kpa);
}

/* Seconds: "600", "600s", "10min". */
static bool parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return false;
    if (!strcmp(end, "min"))
        v *= 60;
    else if (*end && strcmp(end, "s"))
        return false;
    *out = v;
    return v <= 1e6;
}

/* --ar-noise SD[:TAU] */
static bool parse_ar_noise(const char *s, sim_options *o)
{
    char a[64], b[64];
    o->ar_noise_tau_s = SIM_AR_NOISE_TAU_S;
    if (!split_pair(s, a, b, sizeof a) || !parse_vacuum(a, &o->ar_noise_kpa))
        return false;
    return !b[0] || (parse_seconds(b, &o->ar_noise_tau_s) && o->ar_noise_tau_s > 0);
}

/* --hold S[:SD] */
static bool parse_hold(const char *s, sim_style *st)
{
    char a[64], b[64];
    if (!split_pair(s, a, b, sizeof a) || !parse_seconds(a, &st->hold_s) || st->hold_s < 30)
        return false;
    return !b[0] || parse_seconds(b, &st->hold_sd_s);
}

/* --strokes N[-M], 1..10 */
static bool parse_strokes(const char *s, sim_style *st)
{
    int a, b, used = 0;
    if (sscanf(s, "%d-%d%n", &a, &b, &used) == 2 && s[used] == '\0') {
        st->strokes_min = a;
        st->strokes_max = b;
    } else if (sscanf(s, "%d%n", &a, &used) == 1 && s[used] == '\0') {
        st->strokes_min = st->strokes_max = a;
    } else {
        return false;
    }
    return st->strokes_min >= 1 && st->strokes_max <= 10 && st->strokes_min <= st->strokes_max;
}

static int cmp_outage(const void *a, const void *b)
{
    double x = ((const sim_outage *)a)->t_s, y = ((const sim_outage *)b)->t_s;
    return x < y ? -1 : x > y;
}

uint64_t sim_options_frames(const sim_options *o)
{
    uint64_t n = (uint64_t)floor(o->duration_s * o->rate_hz + 1e-6);
    return n ? n : 1;
}

double sim_options_outage_sim_s(const sim_options *o, double wall_s)
{
    return wall_s * (o->time_scale > 0 ? o->time_scale : 1);
}

bool sim_options_file_mode(const sim_options *o)
{
    return o->output || o->points_dir;
}

/* Options that only make sense with a pty, or only with --output. */
static int validate_modes(const sim_options *o)
{
    if (sim_options_file_mode(o) &&
        (o->link || o->log || o->garbage_p > 0 || o->baud_garbage || o->drop ||
         o->noutages || o->proto == CL_WIRE_BINARY || o->checksum || o->labels || o->no_time))
        return usage_error("--output and --calibration-points write files: --link, --log, "
                           "--garbage, --baud-garbage, --drop, --disconnect, --protocol "
                           "binary, --checksum, --labels and --no-time need a pty");
    if (!o->output && (o->force || o->markers || o->practitioner || o->subject ||
                       o->cup_set || o->created || o->uuid || o->nprofiles))
        return usage_error("--force, --markers, --practitioner, --subject, --cup-set, "
                           "--created, --uuid and --profile apply to --output only");
    if (o->truth && !o->output && o->points_dir)
        return usage_error("--truth needs a session: --output FILE or a pty");
    return -1;
}

/* Checks across options, once all are read. */
static int validate(sim_options *o)
{
    int rc = validate_modes(o);
    if (rc >= 0)
        return rc;
    if (o->proto == CL_WIRE_BINARY && (o->checksum || o->no_time || o->labels))
        return usage_error(
            "--protocol binary: --checksum, --no-time and --labels apply to text only");
    qsort(o->outage, (size_t)o->noutages, sizeof o->outage[0], cmp_outage);
    for (int i = 1; i < o->noutages; i++)
        if (o->outage[i].t_s <
            o->outage[i - 1].t_s + sim_options_outage_sim_s(o, o->outage[i - 1].wall_s))
            return usage_error("--disconnect: outages overlap");
    /* Drops never hit the first or the last frame and are at most half of
     * the rest, so that each shows as a gap between two frames that arrive. */
    uint64_t frames = sim_options_frames(o);
    if (o->drop && (frames < 3 || o->drop > (frames - 2) / 2))
        return usage_error("--drop %" PRIu64 ": too many for a session of %" PRIu64 " frames",
                           o->drop, frames);
    /* The session file before any work: an existing one is a usage error. */
    cl_error err;
    rc = o->output ? cl_output_check(o->output, o->force, &err) : CL_OK;
    if (rc != CL_OK) {
        fprintf(stderr, SIM_PROG ": %s\n", err.msg);
        return rc == CL_ERR_EXISTS ? SIM_EXIT_USAGE : SIM_EXIT_RUNTIME;
    }
    return -1;
}

/* What an option handler says: it took the option (TAKEN), it is not one of
 * its options (NOT_MINE), or an exit status (>= 0) after a usage error.  A
 * value it could not read leaves *expected saying what it expected. */
enum { TAKEN = -1, NOT_MINE = -2 };

/* The session: cups, rate, duration, pacing, seed, technique, protocol. */
static int model_option(sim_options *o, int c, const char *arg, const char **expected)
{
    unsigned long long u;
    switch (c) {
    case 'n':
        if (!parse_int(arg, 1, SIM_MAX_CUPS, &o->cups))
            *expected = "1..32";
        o->cups_given = o->cups;
        return TAKEN;
    case 'r':
        if (!cl_cli_double(arg, 1e-3, 1e6, &o->rate_hz))
            *expected = "0.001..1000000 Hz";
        return TAKEN;
    case 'd':
        if (!cl_cli_double(arg, 0, 1e7, &o->duration_s) || o->duration_s <= 0)
            *expected = "seconds > 0";
        o->duration_given = true;
        return TAKEN;
    case 'x':
        if (!cl_cli_double(arg, 0, 1e6, &o->time_scale))
            *expected = "a factor >= 0";
        return TAKEN;
    case 's':
        if (parse_ulong(arg, 0xFFFFFFFFULL, &u))
            o->seed = (unsigned long)u;
        else
            *expected = "0..4294967295";
        return TAKEN;
    case 't':
        if (!strcmp(arg, "pump"))
            o->technique = CL_SIM_PUMP;
        else if (!strcmp(arg, "fire"))
            o->technique = CL_SIM_FIRE;
        else if (!strcmp(arg, "mixed"))
            o->technique = 0;
        else
            *expected = "pump, fire or mixed";
        return TAKEN;
    case 'p':
        if (!(o->proto = cl_wire_protocol_from_name(arg)))
            *expected = "text or binary";
        return TAKEN;
    case OPT_START:
        if (!cl_cli_double(arg, 0, 1e7, &o->start_s))
            *expected = "seconds >= 0";
        return TAKEN;
    case OPT_ADC_BITS:
        if (!parse_int(arg, 8, 16, &o->adc_bits))
            *expected = "8..16";
        return TAKEN;
    }
    return NOT_MINE;
}

/* What the cups and sensors are like: sites, sensors, vacuum, strokes,
 * hold, variability. */
static int style_option(sim_options *o, int c, const char *arg, const char **expected)
{
    unsigned long long u;
    switch (c) {
    case OPT_SITES:
        if (!parse_sites(arg, o))
            *expected = "NAME[:S|M|L],... (1..32 sites)";
        return TAKEN;
    case OPT_SENSOR_SEED:
        if (parse_ulong(arg, 0xFFFFFFFFULL, &u)) {
            o->sensor_seed = (unsigned long)u;
            o->sensor_seed_given = true;
        } else {
            *expected = "0..4294967295";
        }
        return TAKEN;
    case OPT_VACUUM:
        o->styled = true;
        if (!parse_vacuum_opt(arg, &o->style))
            *expected = "a vacuum P[:SD] up to 650 mmHg (bare numbers in mmHg)";
        return TAKEN;
    case OPT_STROKES:
        o->styled = true;
        if (!parse_strokes(arg, &o->style))
            *expected = "N or N-M, 1..10";
        return TAKEN;
    case OPT_HOLD:
        o->styled = true;
        if (!parse_hold(arg, &o->style))
            *expected = "seconds S[:SD] (S >= 30; 600, 600s or 10min)";
        return TAKEN;
    case OPT_VARIABILITY:
        o->styled = true;
        if (!cl_cli_double(arg, 0, 0.5, &o->style.variability))
            *expected = "a relative SD 0..0.5";
        return TAKEN;
    case OPT_BREATHING:
        if (!strcmp(arg, "irregular") || !strcmp(arg, "steady"))
            o->breathing_irregular = !strcmp(arg, "irregular");
        else
            *expected = "steady or irregular";
        return TAKEN;
    case OPT_AR_NOISE:
        if (!parse_ar_noise(arg, o))
            *expected = "SD[:TAU], SD a vacuum up to 650 mmHg, TAU seconds > 0";
        return TAKEN;
    }
    return NOT_MINE;
}

/* The pty and what goes wrong on it: faults, unplugging, logs, waiting. */
static int pty_option(sim_options *o, int c, char *arg, const char **expected)
{
    unsigned long long u;
    switch (c) {
    case OPT_CHECKSUM:
        o->checksum = true;
        return TAKEN;
    case OPT_NO_TIME:
        o->no_time = true;
        return TAKEN;
    case OPT_LABELS:
        o->labels = true;
        return TAKEN;
    case OPT_BAUD_GARBAGE:
        o->baud_garbage = true;
        return TAKEN;
    case OPT_GARBAGE:
        if (!cl_cli_double(arg, 0, 1, &o->garbage_p))
            *expected = "a probability 0..1";
        return TAKEN;
    case OPT_DROP:
        if (parse_ulong(arg, UINT64_MAX, &u))
            o->drop = u;
        else
            *expected = "a frame count";
        return TAKEN;
    case OPT_DISCONNECT:
        if (o->noutages == SIM_MAX_DISCONNECTS)
            return usage_error("--disconnect: at most 16, '%s' is one too many", arg);
        if (parse_outage(arg, &o->outage[o->noutages]))
            o->noutages++;
        else
            *expected = "T:D (seconds)";
        return TAKEN;
    case OPT_LINK:
        o->link = arg;
        return TAKEN;
    case OPT_TRUTH:
        o->truth = arg;
        return TAKEN;
    case OPT_LOG:
        o->log = arg;
        return TAKEN;
    case OPT_WAIT:
        if (!cl_cli_double(arg, 0, 1e6, &o->wait_s))
            *expected = "seconds >= 0";
        return TAKEN;
    case OPT_LINGER:
        if (!cl_cli_double(arg, 0, 1e6, &o->linger_s))
            *expected = "seconds >= 0";
        return TAKEN;
    }
    return NOT_MINE;
}

/* A session file or calibration points instead of a pty. */
static int file_option(sim_options *o, int c, const char *arg)
{
    switch (c) {
    case 'o':
        o->output = arg;
        return TAKEN;
    case OPT_FORCE:
        o->force = true;
        return TAKEN;
    case OPT_MARKERS:
        o->markers = true;
        return TAKEN;
    case OPT_PRACTITIONER:
        o->practitioner = arg;
        return TAKEN;
    case OPT_SUBJECT:
        o->subject = arg;
        return TAKEN;
    case OPT_CUP_SET:
        o->cup_set = arg;
        return TAKEN;
    case OPT_CREATED:
        o->created = arg;
        return TAKEN;
    case OPT_UUID:
        o->uuid = arg;
        return TAKEN;
    case OPT_PROFILE:
        if (o->nprofiles == SIM_MAX_PROFILES)
            return usage_error("--profile: at most %d, '%s' is one too many", SIM_MAX_PROFILES,
                               arg);
        o->profile[o->nprofiles++] = arg;
        return TAKEN;
    case OPT_POINTS:
        o->points_dir = arg;
        return TAKEN;
    }
    return NOT_MINE;
}

/* Messages, help and version. */
static int program_option(int c)
{
    switch (c) {
    case 'v':
        cl_cli_set_verbosity(2);
        return TAKEN;
    case 'q':
        cl_cli_set_verbosity(0);
        return TAKEN;
    case 'h':
        fputs(usage, stdout);
        return SIM_EXIT_OK;
    case 'V':
        cl_version_print(stdout, SIM_PROG);
        return SIM_EXIT_OK;
    }
    return NOT_MINE;
}

int sim_options_parse(sim_options *o, int argc, char **argv)
{
    int c, rc;

    *o = (sim_options){.cups = 4,
                       .rate_hz = 100,
                       .duration_s = 600,
                       .time_scale = 1,
                       .start_s = 5,
                       .seed = 1,
                       .proto = CL_WIRE_TEXT,
                       .adc_bits = 12,
                       .wait_s = 30,
                       .linger_s = 2};
    sim_style_defaults(&o->style);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:r:d:x:s:t:p:o:vqhV", longopts, NULL)) != -1) {
        const char *expected = NULL; /* set when the value is invalid */
        if (c == ':')
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        if ((rc = model_option(o, c, optarg, &expected)) == NOT_MINE &&
            (rc = style_option(o, c, optarg, &expected)) == NOT_MINE &&
            (rc = pty_option(o, c, optarg, &expected)) == NOT_MINE &&
            (rc = file_option(o, c, optarg)) == NOT_MINE &&
            (rc = program_option(c)) == NOT_MINE)
            return usage_error("unknown option '%s'", argv[optind - 1]);
        if (rc >= 0)
            return rc;
        if (expected)
            return usage_error("--%s: expected %s, got '%s'", option_name(c), expected, optarg);
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (o->nsites && o->cups_given && o->cups_given != o->nsites)
        return usage_error("--cups %d but %d --sites", o->cups_given, o->nsites);
    return validate(o);
}

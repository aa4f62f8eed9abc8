/* sim/options: getopt_long parsing and validation of the cuplab-sim command
 * line, and the --help text. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_log.h"
#include "cl_sim.h"

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
    "  -V, --version          show the version and exit\n"
    "\n"
    "Text frames start with the device time in milliseconds, binary frames carry\n"
    "it in microseconds and a sequence number counting from 0.  A new pty path is\n"
    "printed on stdout after each reconnect.\n"
    "Exit status: 0 done (also when the reader closed or on SIGINT/SIGTERM),\n"
    "1 error, 2 invalid usage, 3 no reader within --wait.\n";

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
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, SIM_PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '" SIM_PROG " --help' for more information.\n");
    return SIM_EXIT_USAGE;
}

/* The long name of option `code`, for messages. */
static const char *option_name(int code)
{
    const struct option *p = longopts;
    while (p->name && p->val != code)
        p++;
    return p->name ? p->name : "?";
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
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
    bool ok = parse_double(s, 0, 1e7, &t) && parse_double(colon + 1, 0, 3600, &w);
    *colon = ':';
    if (ok)
        *out = (sim_outage){.t_s = t, .wall_s = w};
    return ok;
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

/* Checks across options, once all are read. */
static int validate(sim_options *o)
{
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
    return -1;
}

int sim_options_parse(sim_options *o, int argc, char **argv)
{
    unsigned long long u;
    int c;

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
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:r:d:x:s:t:p:vqhV", longopts, NULL)) != -1) {
        const char *expected = NULL; /* set when the value is invalid */
        switch (c) {
        case 'n':
            if (!parse_int(optarg, 1, SIM_MAX_CUPS, &o->cups))
                expected = "1..32";
            break;
        case 'r':
            if (!parse_double(optarg, 1e-3, 1e6, &o->rate_hz))
                expected = "0.001..1000000 Hz";
            break;
        case 'd':
            if (!parse_double(optarg, 0, 1e7, &o->duration_s) || o->duration_s <= 0)
                expected = "seconds > 0";
            break;
        case 'x':
            if (!parse_double(optarg, 0, 1e6, &o->time_scale))
                expected = "a factor >= 0";
            break;
        case 's':
            if (parse_ulong(optarg, 0xFFFFFFFFULL, &u))
                o->seed = (unsigned long)u;
            else
                expected = "0..4294967295";
            break;
        case 't':
            if (!strcmp(optarg, "pump"))
                o->technique = CL_SIM_PUMP;
            else if (!strcmp(optarg, "fire"))
                o->technique = CL_SIM_FIRE;
            else if (!strcmp(optarg, "mixed"))
                o->technique = 0;
            else
                expected = "pump, fire or mixed";
            break;
        case 'p':
            if (!(o->proto = cl_wire_protocol_from_name(optarg)))
                expected = "text or binary";
            break;
        case OPT_START:
            if (!parse_double(optarg, 0, 1e7, &o->start_s))
                expected = "seconds >= 0";
            break;
        case OPT_ADC_BITS:
            if (!parse_int(optarg, 8, 16, &o->adc_bits))
                expected = "8..16";
            break;
        case OPT_CHECKSUM:
            o->checksum = true;
            break;
        case OPT_NO_TIME:
            o->no_time = true;
            break;
        case OPT_LABELS:
            o->labels = true;
            break;
        case OPT_BAUD_GARBAGE:
            o->baud_garbage = true;
            break;
        case OPT_GARBAGE:
            if (!parse_double(optarg, 0, 1, &o->garbage_p))
                expected = "a probability 0..1";
            break;
        case OPT_DROP:
            if (parse_ulong(optarg, UINT64_MAX, &u))
                o->drop = u;
            else
                expected = "a frame count";
            break;
        case OPT_DISCONNECT:
            if (o->noutages == SIM_MAX_DISCONNECTS)
                return usage_error("--disconnect: at most 16, '%s' is one too many", optarg);
            if (parse_outage(optarg, &o->outage[o->noutages]))
                o->noutages++;
            else
                expected = "T:D (seconds)";
            break;
        case OPT_LINK:
            o->link = optarg;
            break;
        case OPT_TRUTH:
            o->truth = optarg;
            break;
        case OPT_LOG:
            o->log = optarg;
            break;
        case OPT_WAIT:
            if (!parse_double(optarg, 0, 1e6, &o->wait_s))
                expected = "seconds >= 0";
            break;
        case OPT_LINGER:
            if (!parse_double(optarg, 0, 1e6, &o->linger_s))
                expected = "seconds >= 0";
            break;
        case 'v':
            cl_log_set_level(CL_LOG_INFO);
            break;
        case 'q':
            cl_log_set_level(CL_LOG_ERROR);
            break;
        case 'h':
            fputs(usage, stdout);
            return SIM_EXIT_OK;
        case 'V':
            printf(SIM_PROG " " CUPLAB_VERSION "\n");
            return SIM_EXIT_OK;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
        if (expected)
            return usage_error("--%s: expected %s, got '%s'", option_name(c), expected, optarg);
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    return validate(o);
}

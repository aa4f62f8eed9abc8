/* acquire/options: getopt_long parsing of the cuplab-acquire command line. */
#include "options.h"

#include "cl_cli.h"
#include "cl_version.h"
#include "cl_web.h"
#include "engine/cl_portfind.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "Usage: cuplab-acquire [OPTION]... -o FILE PORT[:BAUD[:PROTOCOL]]...\n"
    "       cuplab-acquire --replay CAPTURE -o FILE\n"
    "       cuplab-acquire --list-ports\n"
    "       cuplab-acquire --identify PORT[:BAUD[:PROTOCOL]]\n"
    "       cuplab-acquire --configure SETTINGS PORT[:BAUD[:PROTOCOL]]\n"
    "Record vacuum-sensor readings from serial ports into an HDF5 session file.\n"
    "\n"
    "  -o, --output FILE        session file to create (never replaced without --force)\n"
    "  -c, --config FILE        read recurring settings from FILE (\"key = value\" lines,\n"
    "                           keys are these long options, \"port = SPEC\" adds a port);\n"
    "                           options on the command line override them\n"
    "  -b, --baud N             default baud rate (115200)\n"
    "  -P, --protocol NAME      default wire protocol: text or binary (text)\n"
    "      --text-timestamp     text: the first unlabelled column is a device timestamp\n"
    "  -d, --duration SECONDS   stop after this long (default: until Ctrl-C)\n"
    "      --flush SECONDS      flush interval (0.5); a kill loses at most this + 0.1 s\n"
    "      --probe-timeout S    wait this long for each device's first frame (10)\n"
    "      --no-reconnect       stop when every device is gone instead of waiting\n"
    "      --buffer FRAMES      ring buffer between reader and writer (131072 frames)\n"
    "      --force              replace an existing output file\n"
    "      --raw CAPTURE        also keep every byte read from the ports in CAPTURE\n"
    "      --replay CAPTURE     decode CAPTURE again into a new session instead of\n"
    "                           reading ports (markers typed during the recording\n"
    "                           are replayed; ports, baud and protocols come from it)\n"
    "      --practitioner NAME  --subject ID  --technique NAME  --site TEXT  --notes TEXT\n"
    "                           session metadata\n"
    "      --cup ID=DEV:CH[,set=S,size=S,material=M,site=S,sensor=SN]\n"
    "                           map a cup to device DEV (0-based port order), channel CH;\n"
    "                           repeat per cup (default: one cup per channel, C1, C2, ...)\n"
    "      --profile FILE       calibration profile (sensor or cup set) to copy into the\n"
    "                           session file; repeat for each\n"
    "      --markers            read marker commands on standard input (default on a\n"
    "                           terminal): applied|released|moved|repumped CUP|all, note TEXT\n"
    "      --live [ADDR:]PORT   serve a live view of the recording over HTTP on PORT\n"
    "                           (0: any free one) of ADDR (default 127.0.0.1); its\n"
    "                           address and token are printed at the start\n"
    "      --live-token TOKEN   the token the live view asks for (default: random)\n"
    "      --target P[:D]       the vacuum aimed at (a bare number is in mmHg), for D\n"
    "                           (s, min or h): recorded, and drawn as a band in the\n"
    "                           live view\n"
    "      --target-band TOL    the band's half-width: N% of the target or a\n"
    "                           pressure (default 10%)\n"
    "      --search GLOB        also look at the ports matching GLOB for a device=\n"
    "                           port and in --list-ports (repeatable; the system lists\n"
    "                           USB serial ports by itself)\n"
    "      --list-ports         list serial ports with their USB metadata and exit;\n"
    "                           with --identify, also what each device says it is\n"
    "      --identify           print what the device on PORT says about itself, exit\n"
    "      --configure SETTINGS change and save the device's settings, then print its\n"
    "                           identity: rate=HZ,channels=N,serial=S,sensorN=S,\n"
    "                           modelN=S (sensor serial, model of channel N)\n"
    "PORT is a path, or the port of a device named by who it is, found again\n"
    "after a replug: usb-serial=S (USB serial number), usb=VVVV:PPPP (USB\n"
    "vendor:product id, one port only), device=S (the device serial the device\n"
    "announces).\n"
    "  -v, --verbose            more messages      -q, --quiet   errors only\n"
    "  -h, --help               this help          -V, --version versions (and libraries)\n"
    "\n"
    "Exit status: 0 complete, 1 ended by an error (file valid to its last flush),\n"
    "2 usage error or an output file that exists, 3 could not start (nothing\n"
    "written), 4 complete but frames were dropped because the writer could not\n"
    "keep up (overrun events in the file).\n";

enum {
    OPT_TEXT_TS = 256, OPT_FLUSH, OPT_PROBE, OPT_NO_RECONNECT, OPT_FORCE, OPT_PRACT,
    OPT_SUBJECT, OPT_TECH, OPT_SITE, OPT_NOTES, OPT_CUP, OPT_MARKERS, OPT_LIST, OPT_BUFFER,
    OPT_RAW, OPT_REPLAY, OPT_PROFILE, OPT_LIVE, OPT_LIVE_TOKEN, OPT_IDENTIFY, OPT_CONFIGURE,
    OPT_SEARCH, OPT_TARGET, OPT_TARGET_BAND,
};

static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"config", required_argument, NULL, 'c'},
    {"baud", required_argument, NULL, 'b'},
    {"protocol", required_argument, NULL, 'P'},
    {"text-timestamp", no_argument, NULL, OPT_TEXT_TS},
    {"duration", required_argument, NULL, 'd'},
    {"flush", required_argument, NULL, OPT_FLUSH},
    {"probe-timeout", required_argument, NULL, OPT_PROBE},
    {"no-reconnect", no_argument, NULL, OPT_NO_RECONNECT},
    {"force", no_argument, NULL, OPT_FORCE},
    {"buffer", required_argument, NULL, OPT_BUFFER},
    {"raw", required_argument, NULL, OPT_RAW},
    {"replay", required_argument, NULL, OPT_REPLAY},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"practitioner", required_argument, NULL, OPT_PRACT},
    {"subject", required_argument, NULL, OPT_SUBJECT},
    {"technique", required_argument, NULL, OPT_TECH},
    {"site", required_argument, NULL, OPT_SITE},
    {"notes", required_argument, NULL, OPT_NOTES},
    {"cup", required_argument, NULL, OPT_CUP},
    {"markers", no_argument, NULL, OPT_MARKERS},
    {"live", required_argument, NULL, OPT_LIVE},
    {"live-token", required_argument, NULL, OPT_LIVE_TOKEN},
    {"target", required_argument, NULL, OPT_TARGET},
    {"target-band", required_argument, NULL, OPT_TARGET_BAND},
    {"search", required_argument, NULL, OPT_SEARCH},
    {"list-ports", no_argument, NULL, OPT_LIST},
    {"identify", no_argument, NULL, OPT_IDENTIFY},
    {"configure", required_argument, NULL, OPT_CONFIGURE},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

#define usage_error(...) cl_cli_usage_error("cuplab-acquire", ACQ_EXIT_USAGE, __VA_ARGS__)

/* A port, not --configure settings: a path or a selector (settings always
 * hold a '=', and none of their keys is a selector's). */
static bool is_port(const char *arg)
{
    cl_portfind_sel sel;
    cl_error err;
    return !strchr(arg, '=') ||
           (cl_portfind_parse(arg, &sel, &err) == CL_OK && sel.kind != CL_PORTFIND_PATH);
}

/* PORT[:BAUD[:PROTOCOL]] */
static int parse_port(acq_options *o, char *spec, int baud, cl_wire_protocol proto, bool ts)
{
    cl_acq_port *p;
    cl_error err;

    if (o->cfg.nports == ACQ_MAX_PORTS)
        return usage_error("too many ports (at most %s)", "16");
    p = &o->ports[o->cfg.nports];
    *p = (cl_acq_port){.name = spec, .baud = baud, .protocol = proto, .text_timestamp = ts};
    if (cl_cli_port_spec(spec, &p->baud, &p->protocol, &err) != CL_OK)
        return usage_error("%s", err.msg);
    o->cfg.nports++;
    return -1;
}

/* ID=DEV:CH[,key=value...] */
static int parse_cup(acq_options *o, char *spec)
{
    cl_session_cup *c;
    char *eq = strchr(spec, '='), *colon, *rest, *tok, *save = NULL;
    long dev, ch;

    if (o->cfg.ncups == ACQ_MAX_CUPS)
        return usage_error("too many cups (at most %s)", "64");
    if (!eq || eq == spec)
        return usage_error("invalid --cup '%s' (expected ID=DEV:CH[,key=value...])", spec);
    *eq++ = '\0';
    rest = strchr(eq, ',');
    if (rest)
        *rest++ = '\0';
    colon = strchr(eq, ':');
    if (!colon)
        return usage_error("invalid cup position '%s' (expected DEV:CH)", eq);
    *colon++ = '\0';
    if (!cl_cli_long(eq, 0, ACQ_MAX_PORTS - 1, &dev) ||
        !cl_cli_long(colon, 0, CL_WIRE_MAX_CHANNELS - 1, &ch))
        return usage_error("invalid cup position for cup '%s'", spec);
    c = &o->cups[o->cfg.ncups];
    *c = (cl_session_cup){.cup_id = spec, .device = (uint16_t)dev, .channel = (uint16_t)ch};
    for (tok = rest ? strtok_r(rest, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
        char *v = strchr(tok, '=');
        if (!v)
            return usage_error("invalid cup attribute '%s' (expected key=value)", tok);
        *v++ = '\0';
        if (strcmp(tok, "set") == 0)
            c->cup_set = v;
        else if (strcmp(tok, "size") == 0)
            c->size = v;
        else if (strcmp(tok, "material") == 0)
            c->material = v;
        else if (strcmp(tok, "site") == 0)
            c->site = v;
        else if (strcmp(tok, "sensor") == 0)
            c->sensor_serial = v;
        else
            return usage_error("unknown cup attribute '%s' (set, size, material, site, sensor)",
                               tok);
    }
    for (size_t k = 0; k < o->cfg.ncups; k++)
        if (strcmp(o->cups[k].cup_id, spec) == 0)
            return usage_error("cup '%s' given twice", spec);
    o->cfg.ncups++;
    return -1;
}

/* Config-file settings: every long option except those that make no sense
 * there; "port = SPEC" adds a port. */
static int config_accept(void *ctx, const char *key, const struct option *opt)
{
    static const char *const denied[] = {"config", "help",     "version",  "list-ports",
                                         "replay", "identify", "configure"};
    (void)ctx;
    if (strcmp(key, "port") == 0)
        return CL_CLI_POSITIONAL;
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
        if (strcmp(key, denied[i]) == 0)
            return CL_CLI_UNKNOWN;
    return opt ? CL_CLI_OPTION : CL_CLI_UNKNOWN;
}

/* What an option handler says: it took the option (TAKEN), it is not one of
 * its options (NOT_MINE), or an exit status (>= 0) after a usage error. */
enum { TAKEN = -1, NOT_MINE = -2 };

/* -b, -P and --text-timestamp: what ports without their own get. */
typedef struct port_defaults {
    int baud;
    cl_wire_protocol protocol;
    bool text_timestamp;
} port_defaults;

/* The recording: output, ports' defaults, duration, flushing, reconnects,
 * buffer, captures. */
static int recording_option(acq_options *o, port_defaults *pd, int opt, const char *arg)
{
    long l;
    switch (opt) {
    case 'o': o->cfg.path = arg; return TAKEN;
    case 'c': return TAKEN; /* read by cl_cli_config_expand() */
    case 'b':
        if (!cl_cli_long(arg, 50, 10000000, &l))
            return usage_error("invalid baud rate '%s'", arg);
        pd->baud = (int)l;
        return TAKEN;
    case 'P':
        if (!(pd->protocol = cl_wire_protocol_from_name(arg)))
            return usage_error("unknown protocol '%s' (text or binary)", arg);
        return TAKEN;
    case OPT_TEXT_TS: pd->text_timestamp = true; return TAKEN;
    case 'd':
        if (!cl_cli_double(arg, 0, 1e9, &o->cfg.duration_s))
            return usage_error("invalid duration '%s'", arg);
        return TAKEN;
    case OPT_FLUSH:
        if (!cl_cli_double(arg, 0, 1e9, &o->cfg.flush_interval_s) ||
            o->cfg.flush_interval_s < 0.01)
            return usage_error("invalid flush interval '%s'", arg);
        return TAKEN;
    case OPT_PROBE:
        if (!cl_cli_double(arg, 0, 1e9, &o->cfg.probe_timeout_s))
            return usage_error("invalid probe timeout '%s'", arg);
        return TAKEN;
    case OPT_NO_RECONNECT: o->cfg.reconnect = false; return TAKEN;
    case OPT_FORCE: o->cfg.force = true; return TAKEN;
    case OPT_RAW: o->cfg.raw_path = arg; return TAKEN;
    case OPT_REPLAY: o->cfg.replay_path = arg; return TAKEN;
    case OPT_BUFFER:
        if (!cl_cli_long(arg, 16, 1L << 26, &l))
            return usage_error("invalid buffer size '%s' (16 to 67108864 frames)", arg);
        o->cfg.ring_records = (size_t)l;
        return TAKEN;
    }
    return NOT_MINE;
}

/* What the session file says of itself: metadata, cups, profiles, markers. */
static int session_option(acq_options *o, int opt, char *arg)
{
    int rc;
    switch (opt) {
    case OPT_PROFILE:
        if (o->nprofiles == ACQ_MAX_PROFILES)
            return usage_error("too many profiles (at most %s)", "64");
        o->profile_paths[o->nprofiles++] = arg;
        return TAKEN;
    case OPT_PRACT: o->cfg.meta.practitioner = arg; return TAKEN;
    case OPT_SUBJECT: o->cfg.meta.subject = arg; return TAKEN;
    case OPT_TECH: o->cfg.meta.technique = arg; return TAKEN;
    case OPT_SITE: o->cfg.meta.site = arg; return TAKEN;
    case OPT_NOTES: o->cfg.meta.notes = arg; return TAKEN;
    case OPT_CUP: return (rc = parse_cup(o, arg)) >= 0 ? rc : TAKEN;
    case OPT_MARKERS: o->markers = true; return TAKEN;
    case OPT_TARGET: {
        cl_error e;
        if (cl_target_parse(arg, &o->target, &e) != CL_OK)
            return usage_error("%s", e.msg);
        o->cfg.meta.target = &o->target;
        return TAKEN;
    }
    case OPT_TARGET_BAND: o->target_band = arg; return TAKEN;
    }
    return NOT_MINE;
}

/* The live view, the device commands, messages, help and version. */
static int program_option(acq_options *o, int opt, const char *arg)
{
    cl_error e;
    switch (opt) {
    case OPT_LIVE:
    case OPT_LIVE_TOKEN:
        if (cl_web_option(&o->live, opt == OPT_LIVE_TOKEN, arg, &e) != CL_OK)
            return usage_error("%s", e.msg);
        return TAKEN;
    case OPT_SEARCH:
        if (o->cfg.nsearch == ACQ_MAX_SEARCH)
            return usage_error("too many --search patterns (at most %s)", "16");
        o->search[o->cfg.nsearch++] = arg;
        return TAKEN;
    case OPT_LIST: o->list_ports = true; return TAKEN;
    case OPT_IDENTIFY: o->identify = true; return TAKEN;
    case OPT_CONFIGURE: o->configure = arg; return TAKEN;
    case 'v': o->verbosity = 2; return TAKEN;
    case 'q': o->verbosity = 0; return TAKEN;
    case 'h': fputs(usage, stdout); return ACQ_EXIT_OK;
    case 'V': cl_version_print(stdout, "cuplab-acquire"); return ACQ_EXIT_OK;
    }
    return NOT_MINE;
}

/* What the options and ports given make together (-1: a recording, a
 * listing or a device command to run). */
static int combination(acq_options *o, const port_defaults *pd)
{
    if (o->list_ports) {
        o->list_baud = pd->baud;
        o->list_protocol = pd->protocol;
        if (o->cfg.nports || o->cfg.path || o->configure)
            return usage_error("%s", "--list-ports takes no port, -o or --configure");
        return -1;
    }
    if (o->identify || o->configure) {
        if (o->cfg.nports != 1 || o->cfg.path || o->cfg.replay_path)
            return usage_error("%s", o->identify ? "--identify takes one port and no -o"
                                                 : "--configure takes one port and no -o");
        return -1;
    }
    if (o->cfg.replay_path && o->cfg.nports)
        return usage_error("%s", "--replay takes its ports from the capture; give no ports");
    if (o->cfg.replay_path && o->cfg.raw_path)
        return usage_error("%s", "--raw cannot be combined with --replay");
    if (o->cfg.nports == 0 && !o->cfg.replay_path)
        return usage_error("%s", "no port given");
    if (!o->cfg.path)
        return usage_error("%s", "no output file given (-o FILE)");
    if (o->live.token && !o->live.on)
        return usage_error("%s", "--live-token needs --live");
    if (o->target_band) {
        cl_error e;
        if (!o->cfg.meta.target)
            return usage_error("%s", "--target-band needs --target");
        if (cl_target_parse_band(o->target_band, &o->target, &e) != CL_OK)
            return usage_error("%s", e.msg);
    }
    return -1;
}

int acq_options_parse(acq_options *o, int argc, char **argv)
{
    port_defaults pd = {.baud = 115200, .protocol = CL_WIRE_TEXT};
    int opt, rc;
    cl_error err;

    memset(o, 0, sizeof *o);
    if (cl_cli_config_expand(&argc, &argv, 1, longopts, config_accept, NULL, &o->config, &err) !=
        CL_OK)
        return usage_error("%s", err.msg);
    o->verbosity = 1;
    o->cfg.reconnect = true;
    o->cfg.meta.software_version = CUPLAB_VERSION;
    o->markers = isatty(STDIN_FILENO);
    opterr = 0; /* the messages below name the program, not its path */
    while ((opt = getopt_long(argc, argv, ":o:c:b:P:d:vqhV", longopts, NULL)) != -1) {
        if (opt == ':')
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        if ((rc = recording_option(o, &pd, opt, optarg)) == NOT_MINE &&
            (rc = session_option(o, opt, optarg)) == NOT_MINE &&
            (rc = program_option(o, opt, optarg)) == NOT_MINE)
            return usage_error("unknown option '%s'", argv[optind - 1]);
        if (rc >= 0)
            return rc;
    }
    o->cfg.search = o->search;
    if (o->configure && is_port(o->configure) && argc - optind == 1 && !is_port(argv[optind])) {
        /* --configure PORT SETTINGS */
        const char *port = o->configure;
        o->configure = argv[optind];
        argv[optind] = (char *)port;
    }
    for (int i = optind; i < argc; i++)
        if ((rc = parse_port(o, argv[i], pd.baud, pd.protocol, pd.text_timestamp)) >= 0)
            return rc;
    if ((rc = combination(o, &pd)) >= 0)
        return rc;
    o->cfg.ports = o->ports;
    if (o->cfg.ncups)
        o->cfg.cups = o->cups;
    return -1;
}

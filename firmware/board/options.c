#include "options.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cl_cli.h"

static const char usage[] =
    "usage: " CB_PROG " --firmware ELF [options]\n"
    "Runs the cuplab firmware on an emulated ATmega328P at 16 MHz (simavr),\n"
    "paced to the wall clock.  UART0 is bridged to a pseudo-terminal whose path\n"
    "is the first line on stdout; the firmware starts --boot-delay after a\n"
    "reader opens it.  ADC0..ADC7 follow eight simulated cups through the\n"
    "nominal MPXV6115V transfer.\n"
    "\n"
    "  -f, --firmware ELF   firmware to run (build/firmware/cuplab-uno.elf)\n"
    "  -s, --seed N         seed of the simulated cups (1)\n"
    "  -d, --duration S     stop after S emulated seconds (0: at SIGINT/SIGTERM)\n"
    "  -l, --log FILE       CSV: cycle,channel,mv of every ADC conversion\n"
    "                       (channel -1: the board was reset)\n"
    "      --stats FILE     JSON: interrupt times in cycles, real-time factor\n"
    "      --eeprom FILE    the EEPROM's 1024 bytes: loaded at start if FILE\n"
    "                       exists (else all 0xFF, a new chip), written at exit\n"
    "      --vcc MV         supply and ADC reference, millivolts (5000)\n"
    "      --start S        model time at the firmware's start, seconds (0)\n"
    "      --wait S         wait at most S s for a reader (60)\n"
    "      --boot-delay S   start the firmware S s after the reader opened (0.5)\n"
    "      --reset-at S     press the reset button once, S emulated seconds in\n"
    "      --unplug-at S:D  pull the cable once, S emulated seconds in, for D\n"
    "                       wall-clock seconds: the pty goes away, the board is\n"
    "                       off, then a new pty (its path the next line on\n"
    "                       stdout) comes up and the board boots again\n"
    "  -h, --help, -V, --version\n"
    "\n"
    "exit status: 0 done, 1 error, 2 bad command line, 3 no reader within --wait\n";

/* S:D of --unplug-at: S > 0 emulated seconds, D wall-clock seconds. */
static bool parse_unplug(const char *s, cb_options *o)
{
    char at[64];
    const char *colon = strchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof at)
        return false;
    memcpy(at, s, (size_t)(colon - s));
    at[colon - s] = '\0';
    return cl_cli_double(at, 1e-3, 1e6, &o->unplug_at_s) &&
           cl_cli_double(colon + 1, 0, 3600, &o->unplug_wall_s);
}

int cb_options_parse(cb_options *o, int argc, char **argv, cl_error *err)
{
    static const struct option longopts[] = {
        {"firmware", required_argument, NULL, 'f'}, {"seed", required_argument, NULL, 's'},
        {"duration", required_argument, NULL, 'd'}, {"log", required_argument, NULL, 'l'},
        {"stats", required_argument, NULL, 'S'},    {"vcc", required_argument, NULL, 'v'},
        {"eeprom", required_argument, NULL, 'e'},
        {"start", required_argument, NULL, 't'},    {"wait", required_argument, NULL, 'w'},
        {"boot-delay", required_argument, NULL, 'b'}, {"help", no_argument, NULL, 'h'},
        {"reset-at", required_argument, NULL, 'r'}, {"unplug-at", required_argument, NULL, 'u'},
        {"version", no_argument, NULL, 'V'},        {NULL, 0, NULL, 0},
    };
    int c;
    long l;

    *o = (cb_options){.seed = 1, .wait_s = 60, .boot_delay_s = 0.5, .vcc_mv = 5000};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:s:d:l:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            o->firmware = optarg;
            break;
        case 's':
            if (!cl_cli_long(optarg, 0, 0x7FFFFFFF, &l))
                return cl_error_set(err, CL_ERR_ARG, "--seed: not a number: %s", optarg);
            o->seed = (unsigned long)l;
            break;
        case 'd':
            if (!cl_cli_double(optarg, 0, 1e6, &o->duration_s))
                return cl_error_set(err, CL_ERR_ARG, "--duration: 0..1e6 s: %s", optarg);
            break;
        case 'l':
            o->log = optarg;
            break;
        case 'S':
            o->stats = optarg;
            break;
        case 'e':
            o->eeprom = optarg;
            break;
        case 'v':
            if (!cl_cli_long(optarg, 1000, 6000, &l))
                return cl_error_set(err, CL_ERR_ARG, "--vcc: 1000..6000 mV: %s", optarg);
            o->vcc_mv = (int)l;
            break;
        case 't':
            if (!cl_cli_double(optarg, 0, 1e6, &o->start_s))
                return cl_error_set(err, CL_ERR_ARG, "--start: 0..1e6 s: %s", optarg);
            break;
        case 'w':
            if (!cl_cli_double(optarg, 0, 1e6, &o->wait_s))
                return cl_error_set(err, CL_ERR_ARG, "--wait: 0..1e6 s: %s", optarg);
            break;
        case 'b':
            if (!cl_cli_double(optarg, 0, 60, &o->boot_delay_s))
                return cl_error_set(err, CL_ERR_ARG, "--boot-delay: 0..60 s: %s", optarg);
            break;
        case 'r':
            if (!cl_cli_double(optarg, 0, 1e6, &o->reset_at_s))
                return cl_error_set(err, CL_ERR_ARG, "--reset-at: 0..1e6 s: %s", optarg);
            break;
        case 'u':
            if (!parse_unplug(optarg, o))
                return cl_error_set(err, CL_ERR_ARG, "--unplug-at: S:D, seconds: %s", optarg);
            break;
        case 'h':
            fputs(usage, stdout);
            return 1;
        case 'V':
            puts(CB_PROG " " CUPLAB_VERSION);
            return 1;
        case ':':
            return cl_error_set(err, CL_ERR_ARG, "%s needs a value", argv[optind - 1]);
        default:
            return cl_error_set(err, CL_ERR_ARG, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cl_error_set(err, CL_ERR_ARG, "unexpected argument %s", argv[optind]);
    if (!o->firmware)
        return cl_error_set(err, CL_ERR_ARG, "--firmware ELF is required");
    return 0;
}

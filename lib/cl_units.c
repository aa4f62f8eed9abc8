/* cl_units: pressure unit names and conversions (see cl_units.h). */
#include "cl_units.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct unit_def {
    cl_unit unit;
    const char *name;  /* canonical */
    const char *alias; /* NULL if none */
    double kpa;        /* kPa per unit */
} unit_def;

static const unit_def units[] = {
    {CL_UNIT_PA, "Pa", NULL, CL_KPA_PER_PA},
    {CL_UNIT_KPA, "kPa", NULL, 1.0},
    {CL_UNIT_MBAR, "mbar", "hPa", CL_KPA_PER_MBAR},
    {CL_UNIT_MMHG, "mmHg", "torr", CL_KPA_PER_MMHG},
    {CL_UNIT_INHG, "inHg", NULL, CL_KPA_PER_INHG},
    {CL_UNIT_PSI, "psi", NULL, CL_KPA_PER_PSI},
};

static const unit_def *find(cl_unit u)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (units[i].unit == u)
            return &units[i];
    return NULL;
}

cl_unit cl_unit_from_name(const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcasecmp(name, units[i].name) == 0 ||
            (units[i].alias && strcasecmp(name, units[i].alias) == 0))
            return units[i].unit;
    return 0;
}

const char *cl_unit_name(cl_unit u)
{
    const unit_def *d = find(u);
    return d ? d->name : "?";
}

const char *cl_unit_names(void)
{
    return "Pa, kPa, mbar, mmHg, inHg, psi";
}

double cl_unit_to_kpa(double value, cl_unit u)
{
    const unit_def *d = find(u);
    return d ? value * d->kpa : NAN;
}

double cl_unit_from_kpa(double kpa, cl_unit u)
{
    const unit_def *d = find(u);
    return d ? kpa / d->kpa : NAN;
}

double cl_unit_time_s(const char *clock_units)
{
    static const struct {
        const char *name;
        double s;
    } clocks[] = {{"us", 1e-6}, {"ms", 1e-3}, {"s", 1.0}};
    for (size_t i = 0; clock_units && i < sizeof clocks / sizeof *clocks; i++)
        if (!strcmp(clock_units, clocks[i].name))
            return clocks[i].s;
    return 0;
}

int cl_unit_parse_kpa(const char *text, cl_unit dflt, double *kpa, cl_error *err)
{
    char *end;
    char name[16];
    size_t n = 0;
    double v;

    *kpa = NAN;
    if (!text)
        return cl_error_set(err, CL_ERR_FORMAT, "missing pressure value");
    while (isspace((unsigned char)*text))
        text++;
    v = strtod(text, &end);
    if (end == text || !isfinite(v))
        return cl_error_set(err, CL_ERR_FORMAT, "'%s' is not a pressure value", text);
    while (isspace((unsigned char)*end))
        end++;
    while (end[n] && !isspace((unsigned char)end[n]) && n < sizeof name - 1) {
        name[n] = end[n];
        n++;
    }
    name[n] = '\0';
    const char *rest = end + n;
    while (isspace((unsigned char)*rest))
        rest++;
    if (*rest || (end[n] && !isspace((unsigned char)end[n])))
        return cl_error_set(err, CL_ERR_FORMAT, "'%s' is not a pressure value", text);
    cl_unit u = n ? cl_unit_from_name(name) : dflt;
    if (!find(u))
        return cl_error_set(err, CL_ERR_ARG, "unknown pressure unit '%s' (use %s)",
                            n ? name : "(none)", cl_unit_names());
    *kpa = cl_unit_to_kpa(v, u);
    return CL_OK;
}

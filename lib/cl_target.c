/*
 * cl_target: a target vacuum, its duration and its band (see cl_target.h).
 */
#include "cl_target.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_units.h"

bool cl_target_parse_duration(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v <= 0)
        return false;
    while (*end == ' ')
        end++;
    if (!strcmp(end, "min"))
        v *= 60;
    else if (!strcmp(end, "h"))
        v *= 3600;
    else if (*end && strcmp(end, "s"))
        return false;
    *out = v;
    return true;
}

int cl_target_parse(const char *spec, cl_target *out, cl_error *err)
{
    char p[96];
    *out = (cl_target){NAN, NAN, NAN};
    if (!spec || !*spec)
        return cl_error_set(err, CL_ERR_ARG, "empty target");
    const char *colon = strchr(spec, ':');
    size_t pl = colon ? (size_t)(colon - spec) : strlen(spec);
    if (pl == 0 || pl >= sizeof p)
        return cl_error_set(err, CL_ERR_FORMAT, "target '%s': expected VACUUM[:DURATION]",
                            spec);
    memcpy(p, spec, pl);
    p[pl] = '\0';
    cl_error e2;
    double v;
    int rc = cl_unit_parse_kpa(p, CL_UNIT_BARE, &v, &e2);
    if (rc != CL_OK)
        return cl_error_set(err, rc, "target '%s': %s", spec, e2.msg);
    v = fabs(v);
    if (v >= CL_KPA_ATMOSPHERE)
        return cl_error_set(err, CL_ERR_ARG,
                            "target '%s': a vacuum of %.4g kPa is beyond the atmosphere's "
                            "%.6g kPa (a bare number is in %s)",
                            spec, v, CL_KPA_ATMOSPHERE, cl_unit_name(CL_UNIT_BARE));
    if (v == 0)
        return cl_error_set(err, CL_ERR_ARG, "target '%s': a target vacuum is above 0", spec);
    double d = NAN;
    if (colon && !cl_target_parse_duration(colon + 1, &d))
        return cl_error_set(err, CL_ERR_FORMAT,
                            "target '%s': duration '%s' (seconds, or with s, min or h)", spec,
                            colon + 1);
    *out = (cl_target){v, d, v * CL_TARGET_BAND_PCT / 100};
    return CL_OK;
}

int cl_target_parse_band(const char *spec, cl_target *t, cl_error *err)
{
    size_t n = spec ? strlen(spec) : 0;
    double b;
    if (n && spec[n - 1] == '%') {
        char *end;
        errno = 0;
        double pct = strtod(spec, &end);
        if (errno || end != spec + n - 1 || !isfinite(pct))
            return cl_error_set(err, CL_ERR_FORMAT, "target band '%s': expected N%% or a "
                                "pressure", spec);
        b = t->vacuum_kpa * pct / 100;
    } else {
        cl_error e2;
        int rc = cl_unit_parse_kpa(spec, CL_UNIT_BARE, &b, &e2);
        if (rc != CL_OK)
            return cl_error_set(err, rc, "target band '%s': %s", spec ? spec : "", e2.msg);
    }
    if (!(b > 0 && b < t->vacuum_kpa))
        return cl_error_set(err, CL_ERR_ARG,
                            "target band '%s': its half-width must be above 0 and below the "
                            "target's %.4g kPa",
                            spec, t->vacuum_kpa);
    t->band_kpa = b;
    return CL_OK;
}

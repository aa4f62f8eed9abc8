/* acquire/live: start and stop the live view. */
#include "live.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Generated from acquire/live/page/ by scripts/embed-assets.sh. */
extern const cl_web_asset acq_live_assets[];
extern const size_t acq_live_assets_n;

/* 127.0.0.0/8: only this machine reaches it. */
static bool loopback(const char *address)
{
    struct in_addr a;
    return inet_pton(AF_INET, address, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

int acq_live_start(acq_live *l, acq_options *o, const cl_sensor_profile *const *sensors,
                   size_t nsensors, cl_error *err)
{
    int rc;
    memset(l, 0, sizeof *l);
    if (o->live_token)
        snprintf(l->token, sizeof l->token, "%s", o->live_token);
    else if ((rc = cl_web_token(l->token, sizeof l->token, err)) != CL_OK)
        return rc;
    if ((rc = cl_dash_new(&l->dash, sensors, nsensors, err)) != CL_OK)
        return rc;
    cl_web_options wo = {.address = o->live_address,
                         .port = o->live_port,
                         .token = l->token,
                         .token_to_read = !loopback(o->live_address),
                         .assets = acq_live_assets,
                         .nassets = acq_live_assets_n,
                         .dash = l->dash};
    if ((rc = cl_web_start(&l->web, &wo, err)) != CL_OK) {
        cl_dash_free(l->dash);
        l->dash = NULL;
        return rc;
    }
    o->cfg.live = cl_dash_hook(l->dash);
    return CL_OK;
}

void acq_live_url(const acq_live *l, const acq_options *o, char *buf, size_t cap)
{
    snprintf(buf, cap, "http://%s:%u/?token=%s", o->live_address, (unsigned)cl_web_port(l->web),
             l->token);
}

void acq_live_stop(acq_live *l)
{
    cl_web_stop(l->web);
    cl_dash_free(l->dash);
    l->web = NULL;
    l->dash = NULL;
}

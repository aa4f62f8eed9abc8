/*
 * cl_acqfile: device table, cup table and the session's creation.
 */
#include "engine/cl_acqfile.h"

#include "cl_ident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cl_acqfile_time_units(const cl_acq_port *port, const char *announcement)
{
    static _Thread_local cl_ident id;
    if (port->protocol == CL_WIRE_BINARY)
        return "us";
    cl_ident_parse(&id, announcement);
    return id.time_units;
}

/* Sensor serial of `channel` as the device announced it; "" if it did not. */
static void announced_serial(const cl_acqfile_device *d, uint16_t channel, char *out, size_t cap)
{
    cl_ident id;
    cl_ident_parse(&id, d->announcement);
    snprintf(out, cap, "%s", channel < CL_WIRE_MAX_CHANNELS ? id.sensor_serial[channel] : "");
}

/* The session's device table; `units` holds each device's time unit. */
static void device_table(const cl_acqfile_device *devs, size_t ndev, cl_session_device *sd,
                         char (*units)[CL_IDENT_TEXT])
{
    for (size_t i = 0; i < ndev; i++) {
        const cl_acqfile_device *d = &devs[i];
        const cl_port_info *pi = d->info;
        snprintf(units[i], sizeof units[i], "%s", cl_acqfile_time_units(d->port, d->announcement));
        sd[i] = (cl_session_device){
            .port = d->port->name,
            .port_path = pi->name[0] ? pi->name : NULL,
            .protocol = cl_wire_protocol_name(d->port->protocol),
            .baud = d->port->baud,
            .channels = d->channels,
            .time_units = units[i],
            .usb_manufacturer = pi->usb_manufacturer,
            .usb_product = pi->usb_product,
            .usb_serial = pi->usb_serial,
            .description = pi->description,
            .usb_vendor_id = pi->usb_vendor_id,
            .usb_product_id = pi->usb_product_id,
            .announcement = d->announcement ? d->announcement : "",
        };
    }
}

/* One cup per channel, C1, C2, ...: the table and its strings (*names,
 * *serials), all malloc'ed. */
static int default_cups(const cl_acqfile_device *devs, size_t ndev, cl_session_cup **out,
                        char (**names)[16], char (**serials)[64], size_t *ncups, cl_error *err)
{
    size_t total = 0, n = 0;
    for (size_t i = 0; i < ndev; i++)
        total += devs[i].channels;
    cl_session_cup *cups = *out = calloc(total, sizeof *cups);
    char(*nm)[16] = *names = calloc(total, sizeof *nm);
    if (!cups || !nm)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    char(*sr)[64] = *serials = calloc(total, sizeof *sr);
    if (!sr)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ndev; i++)
        for (uint16_t c = 0; c < devs[i].channels; c++) {
            snprintf(nm[n], sizeof nm[n], "C%zu", n + 1);
            announced_serial(&devs[i], c, sr[n], sizeof sr[n]);
            cups[n] = (cl_session_cup){.cup_id = nm[n],
                                       .device = (uint16_t)i,
                                       .channel = c,
                                       .sensor_serial = sr[n]};
            n++;
        }
    *ncups = n;
    return CL_OK;
}

/* Every configured cup names a channel that exists. */
static int check_cups(const cl_session_cup *cups, size_t ncups, const cl_acqfile_device *devs,
                      size_t ndev, cl_error *err)
{
    for (size_t k = 0; k < ncups; k++) {
        const cl_session_cup *c = &cups[k];
        if (c->device >= ndev || c->channel >= devs[c->device].channels)
            return cl_error_set(err, CL_ERR_ARG,
                                "cup %s: device %u channel %u does not exist (%s has %u "
                                "channels)",
                                c->cup_id, c->device, c->channel,
                                c->device < ndev ? devs[c->device].port->name : "-",
                                c->device < ndev ? devs[c->device].channels : 0);
    }
    return CL_OK;
}

/* A copy of the cup table; empty if memory runs out. */
static void keep_cups(const cl_session_cup *table, size_t ncups, cl_acqfile_cups *out)
{
    out->ids = calloc(ncups ? ncups : 1, sizeof *out->ids);
    out->cups = calloc(ncups ? ncups : 1, sizeof *out->cups);
    if (!out->ids || !out->cups) {
        free(out->ids);
        free(out->cups);
        out->ids = NULL;
        out->cups = NULL;
        ncups = 0;
    }
    for (size_t k = 0; k < ncups; k++) {
        out->ids[k] = strdup(table[k].cup_id ? table[k].cup_id : "");
        out->cups[k] = (cl_acq_cup){out->ids[k], table[k].device, table[k].channel,
                                    strdup(table[k].sensor_serial ? table[k].sensor_serial : "")};
    }
    out->n = ncups;
}

int cl_acqfile_create(cl_session **out, const cl_acq_config *cfg, const cl_acqfile_device *devs,
                     size_t ndev, size_t chunk_rows, cl_acqfile_cups *cups, cl_error *err)
{
    cl_session_device *sd = calloc(ndev, sizeof *sd);
    cl_session_cup *made = NULL;
    char(*names)[16] = NULL, (*serials)[64] = NULL;
    char units[64][CL_IDENT_TEXT];
    size_t ncups = cfg->ncups;
    int rc;

    if (!sd)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    device_table(devs, ndev, sd, units);
    if (!cfg->cups)
        rc = default_cups(devs, ndev, &made, &names, &serials, &ncups, err);
    else
        rc = check_cups(cfg->cups, ncups, devs, ndev, err);
    if (rc == CL_OK) {
        cl_session_options opts = {.force = cfg->force, .chunk_rows = chunk_rows,
                                   .sync_behind = true};
        const cl_session_cup *table = cfg->cups ? cfg->cups : made;
        rc = cl_session_create(out, cfg->path, &cfg->meta, sd, ndev, table, ncups, &opts, err);
        keep_cups(table, ncups, cups);
    }
    free(serials);
    free(names);
    free(made);
    free(sd);
    return rc;
}

void cl_acqfile_cups_free(cl_acqfile_cups *cups)
{
    for (size_t k = 0; k < cups->n; k++) {
        free(cups->ids[k]);
        free((char *)cups->cups[k].sensor_serial);
    }
    free(cups->ids);
    free(cups->cups);
    *cups = (cl_acqfile_cups){0};
}

/*
 * cl_session: the names of the event kinds and the rule for stored texts
 * (cl_session.h).
 */
#include "cl_session.h"
#include "cl_h5.h"

#include <string.h>

static const char *const kind_names[] = {
    "note", "applied",    "released",  "moved",   "repumped", "start", "stop",
    "gap",  "disconnect", "reconnect", "overrun", "device",   "error",
};
#define NKINDS (sizeof kind_names / sizeof kind_names[0])

const char *cl_event_kind_name(cl_event_kind k)
{
    return (unsigned)k < NKINDS ? kind_names[k] : NULL;
}

int cl_event_kind_from_name(const char *name)
{
    if (name)
        for (size_t i = 0; i < NKINDS; i++)
            if (strcmp(name, kind_names[i]) == 0)
                return (int)i;
    return -1;
}

size_t cl_session_utf8_copy(char *dst, size_t cap, const char *s)
{
    return cl_h5_utf8_copy(dst, cap, s);
}

/* cl_marker: parse typed marker commands into session events. */
#include "engine/cl_marker.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name, *abbrev;
    cl_event_kind kind;
} commands[] = {
    {"applied", "a", CL_EVENT_APPLIED},   {"released", "r", CL_EVENT_RELEASED},
    {"moved", "m", CL_EVENT_MOVED},       {"repumped", "p", CL_EVENT_REPUMPED},
    {"note", "n", CL_EVENT_NOTE},
};

static const char *skip_space(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

/* Copy the next whitespace-delimited word into `w`; returns the rest. */
static const char *next_word(const char *s, char *w, size_t cap)
{
    size_t n = 0;
    s = skip_space(s);
    while (*s && !isspace((unsigned char)*s)) {
        if (n + 1 < cap)
            w[n++] = *s;
        s++;
    }
    w[n] = '\0';
    return s;
}

static int find_cup(const char *word, const char *const *ids, size_t n)
{
    char *end;
    long num;
    for (size_t i = 0; i < n; i++)
        if (ids[i] && strcasecmp(ids[i], word) == 0)
            return (int)i;
    num = strtol(word, &end, 10);
    if (*word && *end == '\0' && num >= 1 && (size_t)num <= n)
        return (int)(num - 1);
    return -2;
}

int cl_marker_parse(const char *line, const char *const *cup_ids, size_t ncups,
                    cl_session_event *ev, char *textbuf, size_t textcap, bool *truncated,
                    cl_error *err)
{
    char word[64];
    const char *rest = next_word(line, word, sizeof word);
    size_t k;

    memset(ev, 0, sizeof *ev);
    if (!*word)
        return cl_error_set(err, CL_ERR_ARG, "empty command");
    for (k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcasecmp(word, commands[k].name) == 0 || strcasecmp(word, commands[k].abbrev) == 0)
            break;
    if (k == sizeof commands / sizeof commands[0])
        return cl_error_set(err, CL_ERR_ARG,
                            "unknown command '%s' (applied, released, moved, repumped, note)",
                            word);
    ev->kind = commands[k].kind;
    ev->cup = -1;
    if (ev->kind != CL_EVENT_NOTE) {
        char cup[64];
        const char *after = next_word(rest, cup, sizeof cup);
        if (*cup && strcasecmp(cup, "all") != 0) {
            int idx = find_cup(cup, cup_ids, ncups);
            if (idx < 0)
                return cl_error_set(err, CL_ERR_ARG, "no cup '%s' in this session", cup);
            ev->cup = idx;
        }
        if (*cup)
            rest = after;
    }
    rest = skip_space(rest);
    /* without trailing white space (CR from a terminal, blanks) */
    size_t len = strlen(rest);
    while (len > 0 && isspace((unsigned char)rest[len - 1]))
        len--;
    size_t kept = cl_session_utf8_copy(textbuf, textcap, rest);
    if (kept > len)
        textbuf[kept = len] = '\0';
    while (kept > 0 && isspace((unsigned char)textbuf[kept - 1]))
        textbuf[--kept] = '\0';
    if (truncated)
        *truncated = kept < len;
    ev->text = textbuf;
    return CL_OK;
}

struct cl_marker_lines {
    char buf[CL_MARKER_LINE_MAX + 1];
    size_t n;
};

cl_marker_lines *cl_marker_lines_new(void)
{
    return calloc(1, sizeof(cl_marker_lines));
}

void cl_marker_lines_free(cl_marker_lines *lb)
{
    free(lb);
}

void cl_marker_lines_feed(cl_marker_lines *lb, const char *buf, size_t n, cl_marker_line_fn fn,
                          void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            lb->buf[lb->n] = '\0';
            lb->n = 0;
            fn(ctx, lb->buf);
        } else if (lb->n < CL_MARKER_LINE_MAX) {
            lb->buf[lb->n++] = buf[i];
        }
    }
}

void cl_marker_lines_end(cl_marker_lines *lb, cl_marker_line_fn fn, void *ctx)
{
    if (lb->n > 0)
        cl_marker_lines_feed(lb, "\n", 1, fn, ctx);
}

/* Unit tests for cl_marker: the typed marker commands. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "engine/cl_marker.h"

static const char *const cups[] = {"C1", "C2", "neck-left"};

static void parse_ok(const char *line, cl_event_kind kind, int cup, const char *text)
{
    cl_session_event ev;
    char buf[128];
    cl_error err;
    assert_int_equal(cl_marker_parse(line, cups, 3, &ev, buf, sizeof buf, NULL, &err), CL_OK);
    assert_int_equal(ev.kind, kind);
    assert_int_equal(ev.cup, cup);
    assert_string_equal(ev.text, text);
}

static void test_commands(void **state)
{
    (void)state;
    parse_ok("applied C2", CL_EVENT_APPLIED, 1, "");
    parse_ok("a 1 first cup on", CL_EVENT_APPLIED, 0, "first cup on");
    parse_ok("  R neck-left  \r", CL_EVENT_RELEASED, 2, "");
    parse_ok("moved all slid down", CL_EVENT_MOVED, -1, "slid down");
    parse_ok("p 3", CL_EVENT_REPUMPED, 2, "");
    parse_ok("note subject reports warmth", CL_EVENT_NOTE, -1, "subject reports warmth");
    parse_ok("released", CL_EVENT_RELEASED, -1, "");
}

static void test_errors(void **state)
{
    (void)state;
    cl_session_event ev;
    char buf[128];
    cl_error err;
    assert_int_equal(cl_marker_parse("", cups, 3, &ev, buf, sizeof buf, NULL, &err), CL_ERR_ARG);
    assert_int_equal(cl_marker_parse("pumped C1", cups, 3, &ev, buf, sizeof buf, NULL, &err),
                     CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "unknown command"));
    assert_int_equal(cl_marker_parse("applied C9", cups, 3, &ev, buf, sizeof buf, NULL, &err),
                     CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "C9"));
    assert_int_equal(cl_marker_parse("applied 4", cups, 3, &ev, buf, sizeof buf, NULL, &err),
                     CL_ERR_ARG);
    assert_int_equal(cl_marker_parse("applied 0", cups, 3, &ev, buf, sizeof buf, NULL, &err),
                     CL_ERR_ARG);
}

/* A comment longer than the event text is cut at a character boundary and
 * reported; one that fits is not. */
static void test_long_comment(void **state)
{
    (void)state;
    cl_session_event ev;
    char buf[128], line[400];
    cl_error err;
    bool cut = true;
    assert_int_equal(cl_marker_parse("n fits  ", cups, 3, &ev, buf, sizeof buf, &cut, &err),
                     CL_OK);
    assert_false(cut);
    for (int start = 0; start < 2; start++) {
        strcpy(line, start ? "note xx" : "note x");
        for (int i = 0; i < 100; i++)
            strcat(line, "\xc3\xa9"); /* e-acute, two bytes */
        assert_int_equal(cl_marker_parse(line, cups, 3, &ev, buf, sizeof buf, &cut, &err),
                         CL_OK);
        assert_true(cut);
        /* "x" + 63 characters end at byte 127; after "xx" byte 127 would
         * split a character, so the text stops at 126 */
        assert_int_equal(strlen(ev.text), start ? 126 : 127);
        assert_memory_equal(ev.text, line + 5, strlen(ev.text));
    }
}

typedef struct got {
    char lines[8][CL_MARKER_LINE_MAX + 1];
    int n;
} got;

static void collect(void *ctx, const char *line)
{
    got *g = ctx;
    assert_true(g->n < 8);
    strcpy(g->lines[g->n++], line);
}

/* Lines split anywhere across reads come out whole; a line longer than
 * CL_MARKER_LINE_MAX keeps its start; the end of input ends the last line. */
static void test_lines(void **state)
{
    (void)state;
    static char input[3000];
    strcpy(input, "applied C1 on\nnote ");
    size_t n = strlen(input);
    memset(input + n, 'z', 2000);
    strcpy(input + n + 2000, "\nr 2\nn last");
    size_t len = strlen(input);
    for (size_t cut = 0; cut <= len; cut += 7) {
        cl_marker_lines *lb = cl_marker_lines_new();
        got g = {.n = 0};
        assert_non_null(lb);
        cl_marker_lines_feed(lb, input, cut, collect, &g);
        cl_marker_lines_feed(lb, input + cut, len - cut, collect, &g);
        assert_int_equal(g.n, 3);
        cl_marker_lines_end(lb, collect, &g);
        cl_marker_lines_end(lb, collect, &g); /* nothing left the second time */
        assert_int_equal(g.n, 4);
        assert_string_equal(g.lines[0], "applied C1 on");
        assert_int_equal(strlen(g.lines[1]), CL_MARKER_LINE_MAX);
        assert_memory_equal(g.lines[1], input + 14, CL_MARKER_LINE_MAX);
        assert_string_equal(g.lines[2], "r 2");
        assert_string_equal(g.lines[3], "n last");
        cl_marker_lines_free(lb);
    }
    cl_marker_lines_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_long_comment),
        cmocka_unit_test(test_lines),
    };
    return cmocka_run_group_tests_name("marker", tests, NULL, NULL);
}

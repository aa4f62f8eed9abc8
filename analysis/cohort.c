/*
 * analysis/cohort: the --group-by mode of cuplab-analyze.
 *
 * Inputs are files, folders (every *.h5 below them, sorted) and glob
 * patterns.  Sessions are read by worker processes (-j N): HDF5 as Debian
 * ships it is not thread-safe, so each worker is a forked process that opens
 * whole session files, reduces each to its compact form
 * (cl_cohortsession_read) and sends it back through a pipe; the parent never
 * touches HDF5 while workers run.  Each worker has its own task pipe (file
 * indexes, at most two outstanding, so a slow file never holds up the
 * others) and result pipe.
 * Results are kept by file index, so the output does not depend on which
 * worker finished first.  With -j 1 the files are read in this process.
 *
 * On a terminal, stderr shows a progress bar; in a pipe it stays quiet.
 */
#include "cohort.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cohort/cl_cohort.h"
#include "cohort/cl_cohortout.h"
#include "cohort/cl_cohortplot.h"
#include "cohort/cl_cohortreport.h"
#include "cl_cli.h"
#include "cl_output.h"
#include "cl_plot.h"
#include "cl_time.h"

#define PROG "cuplab-analyze"
#define MAX_JOBS 256
#define INFLIGHT 2 /* tasks outstanding per worker */

/* Metrics compared when --metrics is not given. */
static const cl_stat_metric default_metrics[] = {
    CL_STAT_PEAK,   CL_STAT_TIME_TO_PEAK, CL_STAT_HOLD_DURATION, CL_STAT_HOLD_MEAN,
    CL_STAT_CHANGE, CL_STAT_LEAK,         CL_STAT_DOSE,          CL_STAT_STROKES};

#define usage(...) cl_cli_usage_error(PROG, AN_EXIT_USAGE, __VA_ARGS__)

/* ------------------------------------------------------------- settings */

typedef struct settings {
    cl_cohort_params p;
    cl_cohorttarget target;
    int table; /* -1: all (text), groups (CSV) */
    int jobs;
} settings;

static int parse_fields(const char *spec, cl_cohort_params *p)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", spec);
    p->nfields = 0;
    for (char *f = strtok_r(buf, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        int id = cl_cohortfield_from_name(f);
        if (id < 0) {
            fprintf(stderr, PROG ": --group-by: unknown field '%s' (%s)\n", f,
                    cl_cohortfield_names());
            return AN_EXIT_USAGE;
        }
        if (p->nfields == 2)
            return usage("--group-by '%s': one or two fields", spec);
        p->field[p->nfields++] = (cl_cohortfield)id;
    }
    if (p->nfields == 0)
        return usage("--group-by '%s': no field", spec);
    if (p->nfields == 2 && p->field[0] == p->field[1])
        return usage("--group-by '%s': the same field twice", spec);
    return -1;
}

static int parse_metrics(const char *spec, cl_cohort_params *p)
{
    char buf[512], *save = NULL;
    memset(p->metric, 0, sizeof p->metric);
    if (!spec) {
        for (size_t i = 0; i < sizeof default_metrics / sizeof default_metrics[0]; i++)
            p->metric[default_metrics[i]] = true;
        return -1;
    }
    if (!strcmp(spec, "all")) {
        for (int m = 0; m < CL_STAT_COUNT; m++)
            p->metric[m] = true;
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        int m = cl_stat_metric_from_name(name);
        if (m < 0) {
            fprintf(stderr, PROG ": --metrics: unknown metric '%s' (", name);
            for (int k = 0; k < CL_STAT_COUNT; k++)
                fprintf(stderr, "%s%s", k ? ", " : "", cl_stat_metric_name((cl_stat_metric)k));
            fprintf(stderr, ", or all)\n");
            return AN_EXIT_USAGE;
        }
        p->metric[m] = true;
    }
    return -1;
}

static int parse_settings(const an_options *o, settings *s)
{
    int rc;
    memset(s, 0, sizeof *s);
    s->table = -1;
    if (o->follow || o->write || o->recover)
        return usage("--group-by cannot be combined with --follow, --write or --recover");
    if (o->plot)
        return usage("--group-by draws its figures into --plot-dir");
    if ((rc = parse_fields(o->group_by, &s->p)) >= 0 ||
        (rc = parse_metrics(o->metrics, &s->p)) >= 0)
        return rc;
    if (o->table && (s->table = cl_cohortout_table_from_name(o->table)) < 0)
        return usage("--table '%s': groups, tests, blocked, pairwise, repeatability, "
                     "profiles, distances or sessions",
                     o->table);
    if (o->target) {
        cl_error err;
        if (cl_cohorttarget_parse(o->target, &s->target, &err) != CL_OK) {
            fprintf(stderr, PROG ": --target: %s\n", err.msg);
            return err.code == CL_ERR_NOTFOUND ? AN_EXIT_FILE : AN_EXIT_USAGE;
        }
        s->p.target = &s->target;
    }
    s->jobs = o->jobs;
    if (s->jobs <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->jobs = n > 0 ? (int)n : 1;
    }
    if (s->jobs > MAX_JOBS)
        s->jobs = MAX_JOBS;
    return -1;
}

/* ---------------------------------------------------------------- inputs */

typedef struct files {
    char **v;
    size_t n, cap;
} files;

static void files_free(files *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i]);
    free(f->v);
    memset(f, 0, sizeof *f);
}

static int files_add(files *f, const char *path)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        char **v = realloc(f->v, cap * sizeof *v);
        if (!v)
            return -1;
        f->v = v;
        f->cap = cap;
    }
    if (!(f->v[f->n] = strdup(path)))
        return -1;
    f->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

static bool is_session_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 3 && !strcasecmp(name + n - 3, ".h5");
}

/* Every *.h5 below dir, in sorted order. */
static int add_dir(files *f, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    files here = {0};
    char path[4096];
    struct dirent *e;
    int rc = 0;
    if (!d) {
        fprintf(stderr, PROG ": %s: cannot read the folder: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        size_t dl = strlen(dir);
        while (dl > 1 && dir[dl - 1] == '/')
            dl--;
        snprintf(path, sizeof path, "%.*s/%s", (int)dl, dir, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        if ((S_ISDIR(st.st_mode) && depth < 16) ||
            (S_ISREG(st.st_mode) && is_session_name(e->d_name)))
            if (files_add(&here, path) < 0) {
                rc = -1;
                break;
            }
    }
    closedir(d);
    if (here.n) /* qsort wants an array, even of nothing */
        qsort(here.v, here.n, sizeof *here.v, cmp_str);
    for (size_t i = 0; rc == 0 && i < here.n; i++) {
        struct stat st;
        if (stat(here.v[i], &st) == 0 && S_ISDIR(st.st_mode))
            rc = add_dir(f, here.v[i], depth + 1);
        else if (files_add(f, here.v[i]) < 0)
            rc = -1;
    }
    files_free(&here);
    return rc;
}

/* Files, folders and glob patterns -> session files.  Errors printed. */
static int expand(const an_options *o, files *f)
{
    for (int i = 0; i < o->nfiles; i++) {
        const char *a = o->files[i];
        struct stat st;
        if (stat(a, &st) == 0) {
            if (S_ISDIR(st.st_mode) ? add_dir(f, a, 0) < 0 : files_add(f, a) < 0)
                return AN_EXIT_FILE;
            continue;
        }
        if (strpbrk(a, "*?[")) {
            glob_t g;
            int r = glob(a, 0, NULL, &g);
            if (r == GLOB_NOMATCH) {
                fprintf(stderr, PROG ": %s: no file matches\n", a);
                return AN_EXIT_FILE;
            }
            for (size_t k = 0; r == 0 && k < g.gl_pathc; k++)
                if (files_add(f, g.gl_pathv[k]) < 0)
                    r = -1;
            globfree(&g);
            if (r != 0) {
                fprintf(stderr, PROG ": %s: cannot expand the pattern\n", a);
                return AN_EXIT_FILE;
            }
            continue;
        }
        /* Left for the reader to report, like any unreadable file. */
        if (files_add(f, a) < 0)
            return AN_EXIT_FILE;
    }
    if (f->n == 0) {
        fprintf(stderr, PROG ": no session files (*.h5) found\n");
        return AN_EXIT_FILE;
    }
    return -1;
}

/* -------------------------------------------------------------- progress */

typedef struct progress {
    bool on;
    size_t total, done, failed;
    double start, last;
} progress;

static void progress_draw(progress *p, bool force)
{
    if (!p->on)
        return;
    double t = cl_time_mono_s();
    if (!force && t - p->last < 0.1)
        return;
    p->last = t;
    enum { W = 30 };
    size_t fill = p->total ? p->done * W / p->total : W;
    char bar[W + 1];
    for (size_t i = 0; i < W; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[W] = '\0';
    double el = t - p->start,
           left = p->done ? el * (double)(p->total - p->done) / (double)p->done : NAN;
    fprintf(stderr, "\r" PROG ": [%s] %zu/%zu sessions", bar, p->done, p->total);
    if (p->failed)
        fprintf(stderr, ", %zu failed", p->failed);
    if (isfinite(left) && p->done < p->total)
        fprintf(stderr, ", %d:%02d left ", (int)(left / 60), (int)fmod(left, 60));
    else
        fprintf(stderr, "            ");
    fflush(stderr);
}

/* Clear the bar's line before another message. */
static void progress_clear(progress *p)
{
    if (p->on)
        fprintf(stderr, "\r%*s\r", 79, "");
}

/* ---------------------------------------------------------------- reading */

typedef struct run {
    const an_options *o;
    files f;
    cl_cohortsession *res;
    bool *ok;
    progress prog;
    int status;
} run;

static void finished(run *r, size_t i, int rc, const char *msg)
{
    r->prog.done++;
    if (rc != CL_OK) {
        r->prog.failed++;
        r->status = AN_EXIT_FILE;
        progress_clear(&r->prog);
        fprintf(stderr, PROG ": %s\n", msg && *msg ? msg : cl_strerror(rc));
    } else {
        r->ok[i] = true;
    }
    progress_draw(&r->prog, rc != CL_OK || r->prog.done == r->prog.total);
}

static void read_here(run *r, size_t i)
{
    cl_error err;
    cl_error_clear(&err);
    int rc = cl_cohortsession_read(r->f.v[i], &r->o->an, &r->res[i], &err);
    finished(r, i, rc, err.msg);
}

/* All n bytes through a pipe, reading (buf) or writing (cbuf): 0, or -1
 * when the other end is gone. */
static int transfer(int fd, void *buf, const void *cbuf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = buf ? read(fd, (unsigned char *)buf + done, n - done)
                        : write(fd, (const unsigned char *)cbuf + done, n - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        done += (size_t)k;
    }
    return 0;
}

static int read_full(int fd, void *buf, size_t n)
{
    return transfer(fd, buf, NULL, n);
}
static int write_full(int fd, const void *buf, size_t n)
{
    return transfer(fd, NULL, buf, n);
}

/* A result on a worker's pipe: this header, then `len` bytes (a packed
 * session when rc is CL_OK, else the error message). */
typedef struct msg_head {
    uint32_t index;
    int32_t rc;
    uint64_t len;
} msg_head;

/* The worker: read file indexes until the task pipe closes. */
static void worker_main(const run *r, int task_fd, int result_fd)
{
    uint32_t i;
    while (read_full(task_fd, &i, sizeof i) == 0) {
        cl_cohortsession s;
        cl_error err;
        void *buf = NULL;
        size_t len = 0;
        cl_error_clear(&err);
        int rc =
            i < r->f.n ? cl_cohortsession_read(r->f.v[i], &r->o->an, &s, &err) : CL_ERR_ARG;
        if (rc == CL_OK) {
            rc = cl_cohortsession_pack(&s, &buf, &len, &err);
            cl_cohortsession_release(&s);
        }
        if (rc != CL_OK) {
            buf = NULL;
            len = strlen(err.msg);
        }
        msg_head h = {i, rc, len};
        if (write_full(result_fd, &h, sizeof h) < 0 ||
            write_full(result_fd, rc == CL_OK ? buf : err.msg, len) < 0)
            _exit(1);
        free(buf);
    }
    _exit(0);
}

typedef struct worker {
    pid_t pid;
    int task_fd, result_fd; /* -1 when closed */
    size_t pend[INFLIGHT];
    size_t npend;
} worker;

typedef struct pool {
    worker w[MAX_JOBS];
    int n;
    size_t *queue; /* indexes still to hand out */
    size_t nq, next;
} pool;

static void worker_close(worker *w)
{
    if (w->task_fd >= 0)
        close(w->task_fd);
    if (w->result_fd >= 0)
        close(w->result_fd);
    w->task_fd = w->result_fd = -1;
}

static int spawn(run *r, pool *p)
{
    fflush(stdout);
    fflush(stderr);
    for (int k = 0; k < p->n; k++) {
        int t[2], res[2];
        worker *w = &p->w[k];
        w->task_fd = w->result_fd = -1;
        if (pipe(t) != 0)
            return -1;
        if (pipe(res) != 0) {
            close(t[0]);
            close(t[1]);
            return -1;
        }
        pid_t pid = fork();
        if (pid < 0) {
            close(t[0]);
            close(t[1]);
            close(res[0]);
            close(res[1]);
            return -1;
        }
        if (pid == 0) {
            close(t[1]);
            close(res[0]);
            for (int j = 0; j < k; j++) /* the other workers' pipes */
                worker_close(&p->w[j]);
            worker_main(r, t[0], res[1]);
        }
        close(t[0]);
        close(res[1]);
        *w = (worker){pid, t[1], res[0], {0}, 0};
    }
    return 0;
}

/* Hand out tasks until the worker has INFLIGHT or none are left; close its
 * task pipe when none are left and it has nothing pending. */
static void feed(pool *p, worker *w)
{
    while (w->task_fd >= 0 && w->npend < INFLIGHT && p->next < p->nq) {
        uint32_t i = (uint32_t)p->queue[p->next];
        if (write_full(w->task_fd, &i, sizeof i) < 0)
            break;
        w->pend[w->npend++] = p->queue[p->next++];
    }
    if (p->next == p->nq && w->npend == 0 && w->task_fd >= 0) {
        close(w->task_fd);
        w->task_fd = -1;
    }
}

/* A worker's pipe ended early: the task it was on failed, the next one
 * goes back into the queue. */
static void worker_died(run *r, pool *p, worker *w)
{
    int st = 0;
    char msg[600];
    worker_close(w);
    if (w->pid > 0 && waitpid(w->pid, &st, 0) > 0 && WIFSIGNALED(st))
        snprintf(msg, sizeof msg, "%s: the analysis ended abnormally (signal %d)",
                 w->npend ? r->f.v[w->pend[0]] : "?", WTERMSIG(st));
    else
        snprintf(msg, sizeof msg, "%s: the analysis ended abnormally",
                 w->npend ? r->f.v[w->pend[0]] : "?");
    w->pid = -1;
    if (w->npend)
        finished(r, w->pend[0], CL_ERR_IO, msg);
    for (size_t j = 1; j < w->npend; j++)
        p->queue[--p->next] = w->pend[j];
    w->npend = 0;
}

/* Read one message from worker w.  Returns 0, or -1 if the pipe ended. */
static int receive(run *r, worker *w)
{
    msg_head h;
    if (read_full(w->result_fd, &h, sizeof h) < 0 || w->npend == 0 || h.index != w->pend[0] ||
        h.len > ((uint64_t)1 << 32))
        return -1;
    char *buf = malloc(h.len + 1);
    if (!buf || (h.len && read_full(w->result_fd, buf, h.len) < 0)) {
        free(buf);
        return -1;
    }
    buf[h.len] = '\0';
    memmove(w->pend, w->pend + 1, (w->npend - 1) * sizeof *w->pend);
    w->npend--;
    if (h.rc == CL_OK) {
        cl_error err;
        int rc = cl_cohortsession_unpack(buf, h.len, &r->res[h.index], &err);
        finished(r, h.index, rc, err.msg);
    } else {
        finished(r, h.index, h.rc, buf);
    }
    free(buf);
    return 0;
}

static void read_parallel(run *r, int jobs)
{
    static pool p;
    struct pollfd fds[MAX_JOBS];
    memset(&p, 0, sizeof p);
    p.n = jobs;
    p.nq = r->f.n;
    if (!(p.queue = malloc(p.nq * sizeof *p.queue))) {
        fprintf(stderr, PROG ": out of memory\n");
        r->status = AN_EXIT_FILE;
        return;
    }
    for (size_t i = 0; i < p.nq; i++)
        p.queue[i] = i;
    signal(SIGPIPE, SIG_IGN);
    if (spawn(r, &p) < 0) {
        fprintf(stderr, PROG ": cannot start worker processes (%s): reading in one\n",
                strerror(errno));
        for (int k = 0; k < p.n; k++)
            if (p.w[k].task_fd >= 0)
                worker_died(r, &p, &p.w[k]);
        p.n = 0;
    }
    for (int k = 0; k < p.n; k++)
        feed(&p, &p.w[k]);
    for (;;) {
        int nf = 0, idx[MAX_JOBS];
        for (int k = 0; k < p.n; k++)
            if (p.w[k].result_fd >= 0) {
                fds[nf] = (struct pollfd){p.w[k].result_fd, POLLIN, 0};
                idx[nf++] = k;
            }
        if (nf == 0)
            break;
        if (poll(fds, (nfds_t)nf, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int j = 0; j < nf; j++) {
            worker *w = &p.w[idx[j]];
            if (!(fds[j].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (w->npend == 0 || receive(r, w) < 0) {
                if (w->npend)
                    worker_died(r, &p, w);
                else
                    worker_close(w);
                continue;
            }
            feed(&p, w);
        }
        /* Workers that died leave their queue to the living; with none left
         * the rest is read here (no worker runs any more: HDF5 is safe). */
        for (int k = 0; k < p.n; k++)
            if (p.w[k].result_fd >= 0)
                feed(&p, &p.w[k]);
    }
    for (int k = 0; k < p.n; k++) {
        worker_close(&p.w[k]);
        if (p.w[k].pid > 0)
            waitpid(p.w[k].pid, NULL, 0);
    }
    while (p.next < p.nq)
        read_here(r, p.queue[p.next++]);
    free(p.queue);
}

/* ---------------------------------------------------------------- figures */

/* The metrics compared, into ms; returns how many. */
static size_t metrics_of(const settings *s, cl_stat_metric *ms)
{
    size_t nm = 0;
    for (int m = 0; m < CL_STAT_COUNT; m++)
        if (s->p.metric[m])
            ms[nm++] = (cl_stat_metric)m;
    return nm;
}

static int figures(const an_options *o, const settings *s, const cl_cohort *c)
{
    cl_figure_style st = {o->unit, o->plot_size};
    cl_stat_metric ms[CL_STAT_COUNT];
    size_t nm = metrics_of(s, ms);
    char path[4096], title[256];
    cl_error err;
    int rc;
    if (cl_output_dir(o->plot_dir, &err) != CL_OK) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        return AN_EXIT_FILE;
    }
    snprintf(title, sizeof title, "%zu sessions by %s%s%s", cl_cohort_session_count(c),
             cl_cohortfield_name(s->p.field[0]), s->p.nfields == 2 ? " and " : "",
             s->p.nfields == 2 ? cl_cohortfield_name(s->p.field[1]) : "");
    snprintf(path, sizeof path, "%s/cohort_boxplots.%s", o->plot_dir, o->plot_format);
    rc = cl_cohortplot_boxes(c, ms, nm, path, &st, title, &err);
    if (rc == CL_OK) {
        if (o->verbosity > 1)
            fprintf(stderr, PROG ": wrote %s\n", path);
        snprintf(path, sizeof path, "%s/cohort_profiles.%s", o->plot_dir, o->plot_format);
        rc = cl_cohortplot_profiles(c, path, &st, title, &err);
    }
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        return AN_EXIT_FILE;
    }
    if (o->verbosity > 1)
        fprintf(stderr, PROG ": wrote %s\n", path);
    return AN_EXIT_OK;
}

/* --report: the cohort's printed report (checked before the work). */
static int report(const an_options *o, const settings *s, const cl_cohort *c)
{
    cl_stat_metric ms[CL_STAT_COUNT];
    cl_error err;
    cl_error_clear(&err);
    if (cl_cohortreport_write(o->report, c, ms, metrics_of(s, ms), o->unit, &err) != CL_OK) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        return AN_EXIT_FILE;
    }
    if (o->verbosity > 1)
        fprintf(stderr, PROG ": wrote %s\n", o->report);
    return AN_EXIT_OK;
}

/* One line when the groups pool techniques, with advice that works: the
 * technique as the second field (what is compared stays the first), or
 * the sessions of one technique only. */
static void warn_pooled(const cl_cohort_params *p, const char *techniques)
{
    const char *f0 = cl_cohortfield_name(p->field[0]);
    if (!*techniques)
        return;
    fprintf(stderr, PROG ": warning: grouping by %s%s%s pools techniques %s: ", f0,
            p->nfields == 2 ? "," : "", p->nfields == 2 ? cl_cohortfield_name(p->field[1]) : "",
            techniques);
    if (p->nfields == 1)
        fprintf(stderr,
                "add --group-by %s,technique or give the sessions of one technique only\n", f0);
    else
        fprintf(stderr, "give the sessions of one technique only, or --group-by %s,technique\n",
                f0);
}

/* ------------------------------------------------------------------ main */

int an_cohort_run(const an_options *o)
{
    settings s;
    run r = {.o = o, .status = AN_EXIT_OK};
    cl_cohort *c = NULL;
    cl_error err;
    int rc = parse_settings(o, &s);
    if (rc >= 0)
        return rc;
    if ((rc = expand(o, &r.f)) >= 0)
        goto out;
    r.res = calloc(r.f.n, sizeof *r.res);
    r.ok = calloc(r.f.n, sizeof *r.ok);
    if (!r.res || !r.ok || !(c = cl_cohort_new())) {
        fprintf(stderr, PROG ": out of memory\n");
        rc = AN_EXIT_FILE;
        goto out;
    }
    r.prog = (progress){.on = o->verbosity > 0 && r.f.n > 1 && isatty(STDERR_FILENO),
                        .total = r.f.n,
                        .start = cl_time_mono_s()};
    progress_draw(&r.prog, true);
    int jobs = s.jobs < (int)r.f.n ? s.jobs : (int)r.f.n;
    if (jobs > 1)
        read_parallel(&r, jobs);
    else
        for (size_t i = 0; i < r.f.n; i++)
            read_here(&r, i);
    progress_clear(&r.prog);
    for (size_t i = 0; i < r.f.n; i++)
        if (r.ok[i] && cl_cohort_add(c, r.f.v[i], &r.res[i], &err) != CL_OK) {
            fprintf(stderr, PROG ": %s\n", err.msg);
            rc = AN_EXIT_FILE;
            goto out;
        }
    if (cl_cohort_session_count(c) == 0) {
        fprintf(stderr, PROG ": no session could be read\n");
        rc = AN_EXIT_FILE;
        goto out;
    }
    if (cl_cohort_compare(c, &s.p, &err) != CL_OK) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        rc = AN_EXIT_FILE;
        goto out;
    }
    if (o->verbosity > 0) {
        warn_pooled(&s.p, cl_cohort_pooled_techniques(c));
        for (size_t i = 0; i < cl_cohort_note_count(c); i++)
            fprintf(stderr, PROG ": note: %s\n", cl_cohort_note(c, i));
    }
    err.msg[0] = '\0';
    errno = 0;
    if (cl_cohortout_write(c, stdout, o->format, s.table, o->unit, &err) != CL_OK ||
        fflush(stdout) != 0) {
        /* A failed write of stdout (a closed pipe) leaves only errno. */
        fprintf(stderr, PROG ": cannot write the results: %s\n",
                err.msg[0] ? err.msg
                : errno    ? strerror(errno)
                           : "write error");
        rc = AN_EXIT_FILE;
        goto out;
    }
    rc = r.status;
    if (o->plot_dir) {
        int frc = figures(o, &s, c);
        if (frc != AN_EXIT_OK)
            rc = frc;
    }
    if (o->report && report(o, &s, c) != AN_EXIT_OK) /* last: costs no other output */
        rc = AN_EXIT_FILE;
    if (o->plot_dir || o->report)
        cl_plot_release(); /* the font caches the figures loaded */
out:
    cl_cohort_free(c);
    for (size_t i = 0; r.res && i < r.f.n; i++)
        cl_cohortsession_release(&r.res[i]);
    free(r.res);
    free(r.ok);
    files_free(&r.f);
    cl_cohorttarget_release(&s.target);
    return rc;
}

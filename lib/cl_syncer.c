/*
 * cl_syncer: one thread per syncer; requests and completed syncs are
 * counted (generations) under one mutex, so a request never waits for a
 * sync, and a sync started after the last request covers all of them.
 */
#include "cl_syncer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct cl_syncer {
    int fd;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;               /* a request, or stop */
    unsigned long requested, synced; /* generations */
    bool stop;
    int err; /* errno of a failed sync not reported yet */
};

static void *syncer_main(void *arg)
{
    cl_syncer *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->synced == s->requested && !s->stop)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->synced == s->requested)
            break; /* stopped, nothing left to sync */
        unsigned long gen = s->requested;
        pthread_mutex_unlock(&s->mu);
        int e = fdatasync(s->fd) != 0 && errno != EINVAL ? errno : 0;
        pthread_mutex_lock(&s->mu);
        if (e && !s->err)
            s->err = e;
        s->synced = gen;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

cl_syncer *cl_syncer_new(int fd)
{
    cl_syncer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = fd;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return NULL;
    }
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    if (pthread_create(&s->thread, NULL, syncer_main, s) != 0) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    return s;
}

int cl_syncer_request(cl_syncer *s)
{
    pthread_mutex_lock(&s->mu);
    int e = s->err;
    s->err = 0;
    s->requested++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return e;
}

int cl_syncer_free(cl_syncer *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    int e = s->err;
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return e;
}

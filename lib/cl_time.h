/*
 * cl_time: the monotonic clock every program paces itself by.  Seconds as a
 * double from CLOCK_MONOTONIC (an arbitrary origin, never stepped by NTP or
 * the user), and a sleep for a duration given the same way.
 */
#ifndef CL_TIME_H
#define CL_TIME_H

/* Seconds on CLOCK_MONOTONIC. */
double cl_time_mono_s(void);

/* Sleep about s seconds (nothing for s <= 0; a signal may end it early). */
void cl_time_sleep_s(double s);

#endif

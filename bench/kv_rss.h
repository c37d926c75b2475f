/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kv_rss.h — what bench_kv's child knows of its own memory and CPU
 * (kv_rss.c): /proc/self/status fields, the process's CPU time, and the
 * RSS sampler that runs beside the workloads. One sampler per process:
 * rss_start, then rss_phase before each workload (rss_watch naming the
 * open table whose engine is asked what it holds), then rss_stop, which
 * prints the peaks (overall and per phase) to stderr.
 */
#ifndef MERU_BENCH_KV_RSS_H
#define MERU_BENCH_KV_RSS_H

#include "kv.h"

/* A "<field>: N kB" line of /proc/self/status, in KiB (-1: absent). */
long status_kib(const char *field);

/* The process's CPU time (user + system, every thread), seconds. */
double proc_cpu_s(void);

/* --rss-maps: when set before rss_start, each phase's peak is also split
 * by kind of mapping (/proc/self/smaps), printed by rss_stop. */
extern int rss_maps_on;

/* Takes the baselines and starts the sampling thread (every 10 ms);
 * -1 when the thread cannot start. */
int rss_start(void);

/* Ends the phase running (a last sample) and starts the named one (a
 * first sample): a phase shorter than the period still has figures. At
 * most 16 phases get their own figures. */
void rss_phase(const char *phase);

/* The open handle the samples ask for its engine's memory (NULL: none);
 * once it returns no sample uses the previous handle, so the caller may
 * close it. */
void rss_watch(const kv_driver *drv, void *h);

/* One sample now, from the calling thread (beside the sampler's). */
void rss_sample(void);

/* Stops the sampler, prints the peaks to stderr under the engine's name,
 * and gives the peaks of RssAnon and RssFile + RssShmem above the
 * baselines, in KiB. */
void rss_stop(const char *engine, double *anon, double *file);

#endif

/*
 * jobs.c - --jobs: up to N deliveries of one message at once.
 *
 * Entry point: jobs_deliver().  It keeps up to cfg->jobs deliveries
 * started (deliver_begin()), gives every running command's descriptors
 * to one poll() and advances each run (run_watch(), run_advance()), so
 * every stdin pipe is fed and every output drained at once and no slow
 * reader holds another.  A delivery that ends before an earlier one
 * keeps only its outcome (deliver_end()); its log line (deliver_line())
 * and the caller's p->done wait until every earlier one is told, so the
 * order is the plan's.  Under --jobs 1, or without the memory for its
 * state, it delivers one by one: the one such path.  What a delivery
 * runs and what its end means are deliver.c's; this module only
 * schedules.
 */
#include <poll.h>
#include <stdlib.h>

#include "deadline.h"
#include "deliver.h"
#include "jobs.h"
#include "run.h"

/* A delivery that ended, waiting until every earlier one is told. */
struct ended {
	struct outcome out;
	unsigned long long size;	/* for its log line */
	long long end;			/* when it ended: its delay= */
	int set;			/* it has ended */
};

/* jobs_deliver()'s state: the runs in flight and the order kept. */
struct sched {
	const struct config *cfg;
	const struct deliver_msg *msg;
	const struct deliver_plan *plan;
	struct deliver_job *slot;	/* cfg->jobs of them */
	size_t *job;			/* the delivery each slot holds */
	struct ended *ended;		/* plan->n of them */
	struct pollfd *fds;		/* RUN_POLL_MAX a slot */
	size_t next, told;		/* the next to start, to tell */
};

/* sched_settle - slot i's delivery ended: its outcome kept until told */
static void
sched_settle(struct sched *s, size_t i)
{
	struct ended *e = &s->ended[s->job[i]];

	e->size = deliver_end(s->msg, &s->slot[i]);
	e->out = s->slot[i].out;
	e->end = deadline_now();
	e->set = 1;
}

/* sched_fill - start deliveries in order while a slot is free; one that
 * cannot run (refused, not started) ends at once */
static void
sched_fill(struct sched *s)
{
	size_t i;

	for (i = 0; i < s->cfg->jobs && s->next < s->plan->n; i++) {
		struct deliver_job *d = &s->slot[i];

		while (!d->running && s->next < s->plan->n) {
			s->job[i] = s->next++;
			s->plan->target(s->plan->arg, s->job[i], &d->rcpt,
			    &d->orig);
			deliver_begin(s->cfg, s->msg, d);
			if (!d->running)
				sched_settle(s, i);
		}
	}
}

/* sched_tell - every ended delivery whose earlier ones are all told:
 * its log line, then the session hears its outcome, in order */
static void
sched_tell(struct sched *s)
{
	struct address rcpt, orig;

	while (s->told < s->plan->n && s->ended[s->told].set) {
		struct ended *e = &s->ended[s->told];

		s->plan->target(s->plan->arg, s->told, &rcpt, &orig);
		deliver_line(s->cfg, s->msg, &rcpt, &orig, e->size, e->end,
		    &e->out);
		s->plan->done(s->plan->arg, s->told, &e->out);
		s->told++;
	}
}

/* sched_poll - one poll() over every running command's descriptors,
 * then each advanced; those that ended are settled */
static void
sched_poll(struct sched *s)
{
	nfds_t n = 0, at[RUN_JOBS_MAX + 1];
	int ms = 60000;
	size_t i;

	for (i = 0; i < s->cfg->jobs; i++) {
		at[i] = n;
		if (s->slot[i].running)
			n += run_watch(s->slot[i].r, s->fds + n, &ms);
	}
	at[i] = n;
	if (poll(s->fds, n, ms) <= 0)
		for (i = 0; i < n; i++)
			s->fds[i].revents = 0;
	for (i = 0; i < s->cfg->jobs; i++)
		if (s->slot[i].running && run_advance(s->slot[i].r,
		    s->fds + at[i], at[i + 1] - at[i]))
			sched_settle(s, i);
}

/* one_by_one - --jobs 1, or jobs_deliver() without the memory for its
 * state: deliver_one() for each in turn */
static void
one_by_one(const struct config *cfg, const struct deliver_msg *msg,
    const struct deliver_plan *p)
{
	struct address rcpt, orig;
	struct outcome out;
	size_t j;

	for (j = 0; j < p->n; j++) {
		p->target(p->arg, j, &rcpt, &orig);
		outcome_init(&out);	/* unfilled: not delivered */
		deliver_one(cfg, msg, &rcpt, &orig, &out);
		p->done(p->arg, j, &out);
	}
}

/* jobs_deliver - every delivery p names, up to cfg->jobs commands at
 * once, all fed and drained by one poll(); each is logged and told to
 * p->done in order, as soon as it and every earlier one have ended.  No
 * command starts past msg's deadline (deliver_begin() says so). */
void
jobs_deliver(const struct config *cfg, const struct deliver_msg *msg,
    const struct deliver_plan *p)
{
	struct sched s = { cfg, msg, p, NULL, NULL, NULL, NULL, 0, 0 };

	if (cfg->jobs > 1 && cfg->jobs <= RUN_JOBS_MAX) {
		s.slot = calloc(cfg->jobs, sizeof(*s.slot));
		s.job = calloc(cfg->jobs, sizeof(*s.job));
		s.ended = calloc(p->n + 1, sizeof(*s.ended));
		s.fds = calloc(cfg->jobs * RUN_POLL_MAX, sizeof(*s.fds));
	}
	if (s.slot == NULL || s.job == NULL || s.ended == NULL ||
	    s.fds == NULL) {
		one_by_one(cfg, msg, p);
	} else {
		for (;;) {
			sched_fill(&s);
			sched_tell(&s);
			if (s.told == p->n)
				break;
			sched_poll(&s);
		}
	}
	free(s.slot);
	free(s.job);
	free(s.ended);
	free(s.fds);
}


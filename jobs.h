/*
 * jobs.h - --jobs: the deliveries of one message, up to N at once.
 *
 * jobs_deliver() runs every delivery a struct deliver_plan names, up to
 * cfg->jobs commands at once over one poll() (one after another under
 * --jobs 1), and tells each outcome to the plan's done() in the plan's
 * order, each after its log line.  It returns only once every delivery
 * has been told.  The session reaches it only through struct
 * session_deliverer's deliver (smtpd.c).
 */
#ifndef PIPESMTPD_JOBS_H
#define PIPESMTPD_JOBS_H

#include "config.h"
#include "deliver.h"

void jobs_deliver(const struct config *cfg, const struct deliver_msg *msg,
    const struct deliver_plan *p);

#endif

/* Handlers of the native API, one file per resource. */
#ifndef CAIRN_HANDLERS_H
#define CAIRN_HANDLERS_H

#include "../util/log.h"

struct req;

/* h_health.c */
int h_health_live(struct req *r);
int h_health(struct req *r);
int h_limits(struct req *r);

#endif

/* Time. Wall clock in milliseconds since the epoch, monotonic in nanoseconds. */
#ifndef CAIRN_CLOCK_H
#define CAIRN_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

int64_t clock_wall_ms(void);
uint64_t clock_mono_ns(void);

/* RFC 3339 UTC with milliseconds: "2026-11-22T10:00:00.123Z" (24 chars + NUL). */
#define CLOCK_RFC3339_LEN 25
/* ms since 1970 as "YYYY-MM-DDTHH:MM:SS.mmmZ" (RFC 3339, UTC). Years outside 0000 to 9999
 * (which no stored time has: client times are parsed from four digits) are written modulo
 * 10000. Any thread. */
void clock_format_rfc3339(int64_t ms, char out[CLOCK_RFC3339_LEN]);

/* The same text for many times in a row (a page of records or changes): the date and
 * time of day are formatted once per second seen, the milliseconds written in place.
 * Zero-initialise; the returned text lives in the memo until the next call. */
struct rfc3339_memo {
	int64_t sec;
	bool set;
	char text[CLOCK_RFC3339_LEN];
};
const char *clock_rfc3339_memo(struct rfc3339_memo *m, int64_t ms);

#endif

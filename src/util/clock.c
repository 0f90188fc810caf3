#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t clock_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void clock_format_rfc3339(int64_t ms, char out[CLOCK_RFC3339_LEN])
{
	time_t s = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	if (frac < 0) {
		frac += 1000;
		s -= 1;
	}
	struct tm tm;
	gmtime_r(&s, &tm);
	char tmp[80]; /* room for any int, so the compiler can see nothing is cut */
	snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, frac);
	memcpy(out, tmp, CLOCK_RFC3339_LEN - 1);
	out[CLOCK_RFC3339_LEN - 1] = '\0';
}

const char *clock_rfc3339_memo(struct rfc3339_memo *m, int64_t ms)
{
	int64_t sec = ms / 1000, frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		sec -= 1;
	}
	if (!m->set || m->sec != sec) {
		clock_format_rfc3339(sec * 1000, m->text);
		m->sec = sec;
		m->set = true;
	}
	/* "YYYY-MM-DDTHH:MM:SS.mmmZ": the milliseconds are characters 20 to 22 */
	m->text[20] = (char)('0' + frac / 100);
	m->text[21] = (char)('0' + frac / 10 % 10);
	m->text[22] = (char)('0' + frac % 10);
	return m->text;
}

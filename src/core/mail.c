#include "mail.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "../util/buf.h"
#include "../util/clock.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/log.h"
#include "../util/worker.h"
#include "core.h"

#define MAX_JOBS 1024
#define MAX_ATTEMPTS 20 /* 2 s, 4 s, ... then hourly: about half a day of retries */

struct job {
	void (*fn)(struct core *c, void *arg);
	void *arg;
};

struct mailer {
	struct core *core;
	struct worker *w;
	pthread_mutex_t mu;
	bool stop;
	struct job jobs[MAX_JOBS];
	int head, njobs;
};

int core_mail(struct core *c, const char *to, const char *subject, const char *body)
{
	int r = c->store->ops->mail->mail_enqueue(c->store, to, subject, body, clock_wall_ms());
	if (r == 0 && c->mailer) {
		pthread_mutex_lock(&c->mailer->mu);
		if (!c->mailer->stop) /* under mu: mailer_stop cannot free the worker meanwhile */
			worker_wake(c->mailer->w);
		pthread_mutex_unlock(&c->mailer->mu);
	}
	return r;
}

int mailer_defer(struct mailer *m, void (*fn)(struct core *c, void *arg), void *arg)
{
	pthread_mutex_lock(&m->mu);
	if (m->njobs == MAX_JOBS || m->stop) {
		pthread_mutex_unlock(&m->mu);
		free(arg);
		return -ERR_BUSY;
	}
	m->jobs[(m->head + m->njobs++) % MAX_JOBS] = (struct job){ fn, arg };
	worker_wake(m->w);
	pthread_mutex_unlock(&m->mu);
	return 0;
}

struct payload {
	const char *p;
	size_t left;
};

static size_t read_payload(char *out, size_t size, size_t n, void *ud)
{
	struct payload *pl = ud;
	size_t want = size * n;
	if (want > pl->left)
		want = pl->left;
	memcpy(out, pl->p, want);
	pl->p += want;
	pl->left -= want;
	return want;
}

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* The message: headers, then the body with CRLF line ends and dot-safe lines. */
static int build_message(const struct config *cfg, const char *to, const char *subject,
			 const char *body, struct buf *b)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	unsigned char rnd[12];
	randombytes_buf(rnd, sizeof rnd);
	char id[32];
	sodium_bin2hex(id, sizeof id, rnd, sizeof rnd);
	const char *domain = strchr(mail_cfg(cfg)->from, '@');
	int r = buf_printf(b, "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nMessage-ID: <%s%s>\r\n", date,
			   mail_cfg(cfg)->from, to, id, domain ? domain : "@cairn.invalid");
	if (is_ascii(subject)) {
		r = r ? r : buf_printf(b, "Subject: %s\r\n", subject);
	} else {
		char enc[1024];
		sodium_bin2base64(enc, sizeof enc, (const unsigned char *)subject,
				  strlen(subject) > 700 ? 700 : strlen(subject),
				  sodium_base64_VARIANT_ORIGINAL);
		r = r ? r : buf_printf(b, "Subject: =?UTF-8?B?%s?=\r\n", enc);
	}
	r = r ? r
	      : buf_puts(b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
			    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	bool line_start = true;
	for (const char *p = body; !r && *p; p++) {
		if (line_start && *p == '.')
			r = buf_append(b, ".", 1);
		if (*p == '\n') {
			r = r ? r : buf_append(b, "\r\n", 2);
			line_start = true;
		} else if (*p != '\r') {
			r = r ? r : buf_append(b, p, 1);
			line_start = false;
		}
	}
	return r ? r : buf_puts(b, "\r\n");
}

/* Sends one mail now. */
static int mail_smtp_send(const struct config *cfg, const char *to, const char *subject,
			  const char *body, char *err, size_t errlen)
{
	struct buf msg = BUF_INIT(1 << 20);
	if (build_message(cfg, to, subject, body, &msg) < 0) {
		buf_free(&msg);
		snprintf(err, errlen, "message too large");
		return -ERR_TOO_LARGE;
	}
	CURL *c = curl_easy_init();
	if (!c) {
		buf_free(&msg);
		return -ERR_NOMEM;
	}
	char from[300], rcpt[300];
	snprintf(from, sizeof from, "<%s>", mail_cfg(cfg)->from);
	snprintf(rcpt, sizeof rcpt, "<%s>", to);
	struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
	struct payload pl = { msg.ptr, msg.len };
	char curl_err[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, mail_cfg(cfg)->smtp_url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_payload);
	curl_easy_setopt(c, CURLOPT_READDATA, &pl);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	if (!strncmp(mail_cfg(cfg)->smtp_url, "smtp://", 7)) {
		long ssl = !strcmp(mail_cfg(cfg)->starttls, "always") ? CURLUSESSL_ALL
			   : !strcmp(mail_cfg(cfg)->starttls, "never") ? CURLUSESSL_NONE
								   : CURLUSESSL_TRY;
		curl_easy_setopt(c, CURLOPT_USE_SSL, ssl);
	}
	if (*mail_cfg(cfg)->user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, mail_cfg(cfg)->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, mail_cfg(cfg)->password);
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		snprintf(err, errlen, "%s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(c);
	buf_free(&msg);
	return rc == CURLE_OK ? 0 : -ERR_IO;
}

/* Sends every mail that is due; returns when none is. */
/* Without an SMTP server a mail goes to the log, one log line per line of its text, so
 * that a link in it can be copied whole (a line break inside a log line shows as '?'). */
static void log_mail(const struct mail *ml)
{
	log_warn("mail to <%s> (no mail.smtp_url set, so logged instead of sent): %s", ml->to,
		 ml->subject);
	for (const char *p = ml->body; *p;) {
		size_t n = strcspn(p, "\n");
		log_warn("mail to <%s> | %.*s", ml->to, (int)n, p);
		p += n;
		if (*p)
			p++;
	}
}

static void drain_outbox(struct mailer *m)
{
	struct store *s = m->core->store;
	const struct config *cfg = m->core->cfg;
	for (;;) {
		struct mail ml = { 0 };
		int64_t now = clock_wall_ms();
		if (s->ops->mail->mail_next(s, now, &ml) < 0)
			return;
		char err[CURL_ERROR_SIZE + 64] = "";
		int r = 0;
		if (*mail_cfg(cfg)->smtp_url)
			r = mail_smtp_send(cfg, ml.to, ml.subject, ml.body, err, sizeof err);
		else
			log_mail(&ml);
		if (r == 0) {
			s->ops->mail->mail_done(s, ml.id, now, NULL, 0);
			log_info("mail %lld %s <%s>", (long long)ml.id,
				 *mail_cfg(cfg)->smtp_url ? "sent to" : "logged (not sent) for", ml.to);
		} else {
			int attempts = ml.attempts + 1;
			int64_t next = 0;
			if (attempts < MAX_ATTEMPTS) {
				int64_t delay = 1000LL << (attempts < 22 ? attempts : 22);
				next = now + (delay > 3600000 ? 3600000 : delay);
			}
			s->ops->mail->mail_done(s, ml.id, now, err, next);
			log_warn("mail %lld to <%s> failed (attempt %d): %s%s", (long long)ml.id,
				 ml.to, attempts, err, next ? "; will retry" : "; giving up");
			mail_clear(&ml);
			return; /* the server is likely down: wait before the next mail */
		}
		mail_clear(&ml);
	}
}

/* Runs the deferred jobs, then sends what the outbox holds; every 2 s and when woken. */
static void mailer_tick(void *arg)
{
	struct mailer *m = arg;
	pthread_mutex_lock(&m->mu);
	while (m->njobs) {
		struct job j = m->jobs[m->head];
		m->head = (m->head + 1) % MAX_JOBS;
		m->njobs--;
		pthread_mutex_unlock(&m->mu);
		j.fn(m->core, j.arg);
		free(j.arg);
		pthread_mutex_lock(&m->mu);
	}
	pthread_mutex_unlock(&m->mu);
	drain_outbox(m);
}

struct mailer *mailer_start(struct core *c)
{
	struct mailer *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->core = c;
	pthread_mutex_init(&m->mu, NULL);
	if (worker_start("cairn-mail", 2000, mailer_tick, m, &m->w) < 0) {
		pthread_mutex_destroy(&m->mu);
		free(m);
		return NULL;
	}
	worker_wake(m->w); /* what the outbox holds from before goes out now, not in 2 s */
	if (!*mail_cfg(c->cfg)->smtp_url)
		log_warn("no mail.smtp_url configured: mails (confirmations, password resets) "
			 "are written to this log instead of sent");
	return m;
}

struct mailer *mailer_stop(struct mailer *m)
{
	if (!m)
		return NULL;
	pthread_mutex_lock(&m->mu);
	m->stop = true;
	pthread_mutex_unlock(&m->mu);
	worker_stop(m->w);
	while (m->njobs) {
		free(m->jobs[m->head].arg);
		m->head = (m->head + 1) % MAX_JOBS;
		m->njobs--;
	}
	pthread_mutex_destroy(&m->mu);
	free(m);
	return NULL;
}

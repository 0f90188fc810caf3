/* Mail: a durable outbox in the store, drained by one sender thread through libcurl's
 * SMTP with retries and backoff; mails survive restarts. With no mail.smtp_url the sender
 * writes each mail to the log instead (a start-up warning says so). The same thread runs
 * small deferred jobs, so that work which must not show in response times (a password
 * reset for an account that may not exist) happens after the answer. */
#ifndef CAIRN_MAIL_H
#define CAIRN_MAIL_H

#include <stddef.h>
#include "../util/config.h"

struct core;
struct config;
struct mailer;

struct mailer *mailer_start(struct core *c);
/* Stops the thread (a send in progress finishes first). Accepts NULL. */
struct mailer *mailer_stop(struct mailer *m);

/* Runs fn(c, arg) on the mailer thread, then free(arg). -ERR_BUSY when 1024 jobs wait. */
int mailer_defer(struct mailer *m, void (*fn)(struct core *c, void *arg), void *arg);

/* Stores a mail in the outbox and wakes the sender. The body is plain UTF-8 text. */
int core_mail(struct core *c, const char *to, const char *subject, const char *body);

/* --- configuration (the section and its values: util/config.h) --- */

struct mail_config {
	char *smtp_url;
	char *from;
	char *user;
	char *password;
	char *starttls;
};
CONFIG_SECTION_DECL(mail);

#endif

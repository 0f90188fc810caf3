/* Inside the accounts part of core (accounts.c, recovery.c, devices.c, admin.c): what
 * they share and nobody else calls. */
#ifndef CAIRN_ACCOUNTS_INT_H
#define CAIRN_ACCOUNTS_INT_H

#include "core.h"

/* A mailed code may be tried this often. */
#define CODE_TRIES 5

/* Counts a credential request against the client's address and, when login is given,
 * against that account: -ERR_RATE with *ret_retry seconds when either is over its limit
 * (accounts.c). */
int acct_limit(struct core *c, const char *addr, int64_t realm_id, const char *login,
	       int *ret_retry);
/* The stored hash of a 6-digit code: bound to its user, so one hash fits one account. */
void acct_code_hash(int64_t user_id, const char *code, uint8_t out[32]);
/* Makes a new code and link of that purpose for u (replacing earlier ones) and mails
 * them (the outbox; the mailer sends). */
int acct_send_code(struct core *c, const struct user *u, const struct realm *rl,
		   enum ecode_purpose purpose);

#endif

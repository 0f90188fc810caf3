/* Recovery: confirming an address and resetting a password, by a mailed code or by the
 * link in the mail. A wrong or used code and an unknown user get one answer
 * (ERR_CODE_INVALID), so nothing tells which; every comparison takes one of the code's
 * tries first. */
#include "accounts.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"
#include "accounts_int.h"
#include "hub.h"
#include "mail.h"

/* What a failed code or link check means to the caller: a missing or wrong code (or user)
 * is one answer, so it tells nothing of which. */
static int code_err(int r)
{
	return r == -ERR_NOT_FOUND ? -ERR_CODE_INVALID : r == -ERR_EXPIRED ? -ERR_CODE_EXPIRED : r;
}

/* The live code a mailed token stands for: -ERR_NOT_FOUND, -ERR_EXPIRED. */
static int code_by_token(struct core *c, enum ecode_purpose purpose, const char *token,
			 struct ecode *ret)
{
	uint8_t th[32];
	token_hash(token, th);
	int r = c->store->ops->sessions->ecode_by_token(c->store, purpose, th, ret);
	if (r == 0 && ret->expires_ms <= clock_wall_ms())
		r = -ERR_EXPIRED;
	return r;
}

int acct_confirm_token(struct core *c, const char *token, const char *addr, int *ret_retry)
{
	int r = acct_limit(c, addr, 0, NULL, ret_retry);
	if (r < 0)
		return r;
	if (!token || strlen(token) >= TOKEN_LEN)
		return -ERR_CODE_INVALID;
	struct ecode e;
	r = code_by_token(c, ECODE_CONFIRM, token, &e);
	return code_err(r < 0 ? r : c->store->ops->sessions->ecode_confirm(c->store, &e));
}

/* Checks code against the user's active code of that purpose, counting failures.
 * -ERR_NOT_FOUND (no code, or wrong), -ERR_EXPIRED. */
static int check_code(struct core *c, const struct user *u, enum ecode_purpose purpose,
		      const char *code, struct ecode *ret)
{
	int r = c->store->ops->sessions->ecode_active(c->store, u->id, purpose, ret);
	if (r < 0)
		return r;
	if (ret->expires_ms <= clock_wall_ms())
		return -ERR_EXPIRED;
	/* every comparison takes a try first, the right code's too: at most CODE_TRIES are
	 * ever compared, however many guesses arrive at once */
	r = c->store->ops->sessions->ecode_take_try(c->store, ret->id, CODE_TRIES);
	if (r < 0)
		return r;
	uint8_t h[32];
	acct_code_hash(u->id, code, h);
	return sodium_memcmp(h, ret->code_hash, 32) != 0 ? -ERR_NOT_FOUND : 0;
}

static bool valid_code(const char *code)
{
	if (!code || strlen(code) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return true;
}

/* The realm a request names, once its fields passed (-ERR_INVALID with ve otherwise),
 * then the rate limits of the address and of login (NULL: the address alone). */
static int realm_and_limit(struct core *c, const char *realm, const char *addr,
			   const char *login, struct realm *rl, struct verr *ve, int *ret_retry)
{
	int r = acct_realm(c, realm, rl, ve);
	if (r < 0 && r != -ERR_INVALID)
		return r;
	if (ve->n)
		return -ERR_INVALID;
	return acct_limit(c, addr, rl->id, login, ret_retry);
}

int acct_confirm_code(struct core *c, const char *login, const char *realm, const char *code,
		      const char *addr, struct verr *ve, int *ret_retry)
{
	struct realm rl;
	if (!login || !*login || strlen(login) > EMAIL_MAX)
		verr_add(ve, "username", "is required");
	if (!valid_code(code))
		verr_add(ve, "code", "must be the 6 digits from the mail");
	int r = realm_and_limit(c, realm, addr, login, &rl, ve, ret_retry);
	if (r < 0)
		return r;
	struct user u;
	r = c->store->ops->accounts->user_find(c->store, rl.id, login, &u);
	if (r < 0)
		return code_err(r);
	struct ecode e;
	r = check_code(c, &u, ECODE_CONFIRM, code, &e);
	if (r < 0)
		return code_err(r);
	return code_err(c->store->ops->sessions->ecode_confirm(c->store, &e));
}

struct forgot_job {
	int64_t realm_id;
	char login[EMAIL_MAX + 1];
};

static void forgot_run(struct core *c, void *arg)
{
	struct forgot_job *j = arg;
	struct user u;
	struct realm rl;
	if (c->store->ops->accounts->user_find(c->store, j->realm_id, j->login, &u) < 0 || !u.email[0] ||
	    u.disabled || c->store->ops->accounts->realm_get_by_id(c->store, j->realm_id, &rl) < 0)
		return;
	int r = acct_send_code(c, &u, &rl, ECODE_RESET);
	if (r < 0)
		log_error("cannot queue the reset mail for user %lld: %s", (long long)u.id,
			  err_str(r));
}

int acct_forgot(struct core *c, const char *login, const char *realm, const char *addr,
		struct verr *ve, int *ret_retry)
{
	struct realm rl;
	if (!login || !*login)
		verr_add(ve, "username", "is required");
	else if (strlen(login) > EMAIL_MAX)
		verr_add(ve, "username", "must be at most %d bytes", EMAIL_MAX);
	int r = realm_and_limit(c, realm, addr, login, &rl, ve, ret_retry);
	if (r < 0)
		return r;
	struct forgot_job *j = calloc(1, sizeof *j);
	if (!j)
		return -ERR_NOMEM;
	j->realm_id = rl.id;
	snprintf(j->login, sizeof j->login, "%s", login);
	if (c->mailer) {
		/* With 1024 resets already waiting this one is dropped (and logged): the answer
		 * must not tell, and the client can ask again. */
		if (mailer_defer(c->mailer, forgot_run, j) < 0)
			log_warn("password reset request dropped: the mail queue is full");
		return 0;
	}
	forgot_run(c, j);
	free(j);
	return 0;
}

int acct_reset(struct core *c, const struct reset_in *in, struct verr *ve, int *ret_retry)
{
	struct realm rl;
	bool by_token = in->token && *in->token;
	if (!by_token) {
		if (!in->login || !*in->login || strlen(in->login) > EMAIL_MAX)
			verr_add(ve, "username", "is required with a code");
		if (!valid_code(in->code))
			verr_add(ve, "code", "must be the 6 digits from the mail (or give token)");
	} else if (strlen(in->token) >= TOKEN_LEN) {
		verr_add(ve, "token", "is not a reset token");
	}
	check_password(ve, "new_password", in->new_password);
	int r = realm_and_limit(c, in->realm, in->addr, by_token ? NULL : in->login, &rl, ve,
				ret_retry);
	if (r < 0)
		return r;
	struct ecode e;
	if (by_token) {
		r = code_by_token(c, ECODE_RESET, in->token, &e);
		if (r < 0)
			return code_err(r);
	} else {
		struct user u;
		r = c->store->ops->accounts->user_find(c->store, rl.id, in->login, &u);
		if (r < 0)
			return code_err(r);
		r = check_code(c, &u, ECODE_RESET, in->code, &e);
		if (r < 0)
			return code_err(r);
	}
	char hash[PASSWORD_HASH_MAX + 1];
	r = password_hash(c, in->new_password, hash);
	if (r < 0)
		return r;
	r = c->store->ops->sessions->ecode_reset(c->store, &e, hash, clock_wall_ms());
	if (r == 0 && c->hub)
		hub_access_changed(c->hub, e.user_id, 0, 0); /* every session ended */
	return code_err(r);
}

int acct_reset_link(struct core *c, const char *token, const char *addr, int *ret_retry)
{
	if (!token || !*token || strlen(token) >= TOKEN_LEN)
		return -ERR_CODE_INVALID;
	int r = acct_limit(c, addr, 0, NULL, ret_retry);
	if (r < 0)
		return r;
	struct ecode e;
	return code_err(code_by_token(c, ECODE_RESET, token, &e));
}

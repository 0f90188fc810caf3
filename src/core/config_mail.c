/* The [mail] section: the SMTP server and the sender. */
#include <stdio.h>
#include <string.h>

#include "../util/err.h"
#include "mail.h"

static int validate_mail(const struct config *c, char *err, size_t errlen)
{
	const char *u = mail_cfg(c)->smtp_url;
	if (*u && strncmp(u, "smtp://", 7) && strncmp(u, "smtps://", 8)) {
		snprintf(err, errlen, "%s: mail.smtp_url must start with smtp:// or smtps://",
			 config_where(c, &mail_section, "smtp_url"));
		return -ERR_INVALID;
	}
	return 0;
}

#define F(field) offsetof(struct mail_config, field)

static const struct config_def mail_keys[] = {
	{ "smtp_url", T_OPTSTR, "", 0, 0, NULL, NULL, NULL, F(smtp_url),
	  "SMTP server: smtp://host:587 (STARTTLS when offered) or "
	  "smtps://host:465. Empty: mails are written to the log instead.",
	  .serve_only = false },
	{ "from", T_STR, "cairn@localhost", 0, 0, NULL, NULL, NULL, F(from),
	  "Sender address of the server's mails.", .serve_only = false },
	{ "user", T_OPTSTR, "", 0, 0, NULL, NULL, NULL, F(user),
	  "SMTP login name; empty for none.", .serve_only = false },
	{ "password", T_OPTSTR, "", 0, 0, NULL, NULL, NULL, F(password), "SMTP password.",
	  .secret = true },
	{ "starttls", T_ENUM, "try", 0, 0, "try|always|never", NULL, NULL, F(starttls),
	  "For smtp:// URLs: use STARTTLS when offered (try), insist on it "
	  "(always), or never.",
	  .serve_only = false },
};

#undef F

CONFIG_SECTION(mail, validate_mail);

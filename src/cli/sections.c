/* The program's configuration: every section, in the order files and `cairn config` show
 * them. A subsystem with settings declares its section beside its code; adding one is a
 * line here. */
#include "cli.h"

#include "../core/accounts.h"
#include "../core/core.h"
#include "../core/files/files.h"
#include "../core/messages/messages.h"
#include "../core/mail.h"
#include "../core/sync.h"
#include "../http/app.h"
#include "../http/compat/migchat/migchat.h"
#include "../http/compat/oktosync/oktosync.h"
#include "../http/compat/sts/sts.h"
#include "../http/compat/tickit/tickit.h"
#include "../http/compat/verstak/verstak.h"
#include "../util/log.h"

static const struct config_section *const sections[] = {
	&server_section, &storage_section, &limits_section, &sync_section, &files_section, &messages_section, &blobs_section,
	&auth_section,   &ratelimit_section, &mail_section, &admin_section, &migchat_section,
	&tickit_section, &sts_section, &oktosync_section, &verstak_section,
	&log_section,
};

int cairn_config_init(struct config *c)
{
	return config_init(c, sections, sizeof sections / sizeof sections[0]);
}

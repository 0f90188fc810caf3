/* MigChat's route table, its dispatch step (CORS preflight, then the route's checks) and
 * the mount that serves them. */
#include <string.h>

#include "../../helpers.h"
#include "migchat.h"

/* Every route also takes OPTIONS: the dispatch step answers a preflight before anything. */
#define O HM_OPTIONS

static const struct route migchat_routes[] = {
	{ HM_GET | O, "/health", mig_health, BODY_NONE, NULL, NULL, ROUTE_PUBLIC },
	{ HM_POST | O, "/api/account/create", mig_account_create, BODY_JSON, NULL, NULL,
	  ROUTE_PUBLIC | ROUTE_CREDENTIALS },
	{ HM_POST | O, "/api/account/update-username", mig_update_username, BODY_JSON, NULL, NULL,
	  0 },
	{ HM_POST | O, "/api/messages/send", mig_send, BODY_JSON, NULL, NULL, 0 },
	{ HM_GET | O, "/api/messages", mig_messages, BODY_NONE, NULL, NULL, ROUTE_GZIP },
	{ HM_GET | O, "/api/messages/filtered", mig_messages_filtered, BODY_NONE, NULL, NULL,
	  ROUTE_GZIP },
	/* its CLI posts this with a JSON content type and no body; a body is read and dropped */
	{ HM_POST | O, "/api/messages/mark-read", mig_mark_read, BODY_NONE, NULL, NULL, 0 },
	{ HM_GET | O, "/api/conversations", mig_conversations, BODY_NONE, NULL, NULL, ROUTE_GZIP },
	{ HM_POST | O, "/api/keys/upload", mig_keys_upload, BODY_JSON, NULL, NULL, 0 },
	{ HM_GET | O, "/api/keys/{username}", mig_keys_get, BODY_NONE, NULL, NULL, 0 },
};

#undef O

/* MigChat's server allowed any origin, method and header (a permissive CORS layer). */
static const char *const migchat_headers[] = { "Access-Control-Allow-Origin", "*", NULL };

/* A preflight (OPTIONS) is answered at once, before any check: browsers send it without
 * credentials. Everything else gets the route's checks (a bearer token unless public). */
static int migchat_dispatch(struct req *r)
{
	if (r->method == HM_OPTIONS) {
		http_add_header(r, "Access-Control-Allow-Methods", "*");
		http_add_header(r, "Access-Control-Allow-Headers", "*");
		http_add_header(r, "Access-Control-Max-Age", "86400");
		http_reply_bytes(r, 200, NULL, "", 0);
		return -1;
	}
	return app_check_route_or_reply(r);
}

const struct http_mount migchat_mount = {
	.prefix = "/compat/migchat",
	.routes = migchat_routes,
	.nroutes = sizeof migchat_routes / sizeof migchat_routes[0],
	.pre_body = migchat_dispatch,
	.reply_error = mig_error_writer,
	.headers = migchat_headers,
};

/* The [server] section: listening, connections, timeouts, the public address. */
#include <stdio.h>
#include <string.h>

#include "../core/core.h"
#include "../util/err.h"
#include "../util/netaddr.h"
#include "app.h"

static int validate_server(const struct config *c, char *err, size_t errlen)
{
	const struct server_config *s = server_cfg(c);
	const char *u = s->public_url;
	if (*u && strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
		snprintf(err, errlen, "%s: server.public_url must start with http:// or https://",
			 config_where(c, &server_section, "public_url"));
		return -ERR_INVALID;
	}
	int64_t header_bytes = limits_cfg(c)->header_bytes;
	if (s->connection_memory < header_bytes + 4 * KiB) {
		snprintf(err, errlen,
			 "%s: server.connection_memory (%lld) must be at least limits.header_bytes "
			 "(%lld) + 4KiB",
			 config_where(c, &server_section, "connection_memory"),
			 (long long)s->connection_memory, (long long)header_bytes);
		return -ERR_INVALID;
	}
	struct netrange_list proxies;
	char why[128];
	if (netrange_list_parse(s->trusted_proxies, &proxies, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: server.trusted_proxies: %s",
			 config_where(c, &server_section, "trusted_proxies"), why);
		return -ERR_INVALID;
	}
	return 0;
}

#define F(field) offsetof(struct server_config, field)

static const struct config_def server_keys[] = {
	{ "listen", T_ADDR, "127.0.0.1:8080", 0, 0, NULL, "--listen", "HOST:PORT", F(listen),
	  "Address to listen on: HOST:PORT, or [IPV6]:PORT. Port 0 picks a free "
	  "port (the log says which).",
	  .serve_only = true },
	{ "threads", T_INT, "0", 0, 256, NULL, NULL, NULL, F(threads),
	  "HTTP worker threads; 0 means one per CPU core.", .serve_only = false },
	{ "max_connections", T_INT, "10000", 1, 1000000, NULL, NULL, NULL, F(max_connections),
	  "Open connections at most; more are refused at accept.", .serve_only = false },
	{ "connection_memory", T_SIZE, "16KiB", 8 * KiB, 16 * MiB, NULL, NULL, NULL,
	  F(connection_memory),
	  "Memory pool per connection (request line, headers, read buffer). Must be "
	  "at least limits.header_bytes + 4KiB.",
	  .serve_only = false },
	{ "header_timeout", T_DURATION, "10s", 1 * SEC, 3600 * SEC, NULL, NULL, NULL,
	  F(header_timeout_ms),
	  "A client must send a request's complete headers within this time, "
	  "however slowly it trickles them.",
	  .serve_only = false },
	{ "idle_timeout", T_DURATION, "60s", 1 * SEC, 86400 * SEC, NULL, NULL, NULL,
	  F(idle_timeout_ms), "A connection with no traffic for this long is closed.",
	  .serve_only = false },
	{ "shutdown_timeout", T_DURATION, "10s", 0, 600 * SEC, NULL, NULL, NULL,
	  F(shutdown_timeout_ms),
	  "On SIGTERM or SIGINT, how long in-flight requests may take to finish "
	  "before the server exits anyway.",
	  .serve_only = false },
	{ "public_url", T_OPTSTR, "", 0, 0, NULL, NULL, NULL, F(public_url),
	  "The address users reach the server at, for links in e-mails "
	  "(https://sync.example.org). Empty: http:// and the address listened on, "
	  "and a warning at start when that is 0.0.0.0 or ::.",
	  .serve_only = false },
	{ "events_heartbeat", T_DURATION, "15s", 100, 3600 * SEC, NULL, NULL, NULL,
	  F(events_heartbeat_ms),
	  "How often an event stream gets a heartbeat comment; each heartbeat also "
	  "checks that the stream's token still works.",
	  .serve_only = false },
	{ "body_min_rate", T_SIZE, "1KiB", 0, 1 * GiB, NULL, NULL, NULL, F(body_min_rate),
	  "Bytes per second a request body must average over each window of "
	  "server.body_grace, the first from the end of its headers; a slower "
	  "client is cut off. 0: no minimum.",
	  .serve_only = false },
	{ "body_grace", T_DURATION, "10s", 1 * SEC, 3600 * SEC, NULL, NULL, NULL,
	  F(body_grace_ms), "The window over which server.body_min_rate is measured.",
	  .serve_only = false },
	{ "max_connections_per_address", T_INT, "256", 1, 1000000, NULL, NULL, NULL,
	  F(max_connections_per_address),
	  "Open connections from one client address at most; more are closed at "
	  "accept. Trusted proxies are exempt.",
	  .serve_only = false },
	{ "trusted_proxies", T_OPTSTR, "", 0, 0, NULL, NULL, NULL, F(trusted_proxies),
	  "Reverse proxies, as addresses or CIDR ranges separated by commas "
	  "(127.0.0.1, 10.0.0.0/8, ::1). Their connections are exempt from "
	  "max_connections_per_address, and for them the client is the rightmost "
	  "X-Forwarded-For entry that is not itself a trusted proxy. Empty: "
	  "X-Forwarded-For is ignored.",
	  .serve_only = false },
	{ "gzip_level", T_INT, "3", 0, 9, NULL, NULL, NULL, F(gzip_level),
	  "How hard pulls and records listings are compressed (gzip, 1 fastest to 9 "
	  "smallest) for clients that send Accept-Encoding: gzip; 0: never.",
	  .serve_only = false },
	{ "gzip_min_bytes", T_SIZE, "1KiB", 0, 16 * MiB, NULL, NULL, NULL, F(gzip_min_bytes),
	  "Answers smaller than this go uncompressed: compressing them saves less than "
	  "it costs.",
	  .serve_only = false },
};

#undef F

CONFIG_SECTION(server, validate_server);

/* Every configuration key: section, name, type, default, bounds, flag and help. The
 * README, docs/configuration.md, cairn.conf.example and --help all come from here (and
 * tests check the docs against it). */
#include <stddef.h>

#include "config_def.h"

#define F(field) offsetof(struct config, field)

const struct config_def config_defs[CONFIG_NKEYS] = {
	[CK_SERVER_LISTEN] = { "server", "listen", T_ADDR, "127.0.0.1:8080", 0, 0, NULL,
			       "--listen", "HOST:PORT", F(server_listen),
			       "Address to listen on: HOST:PORT, or [IPV6]:PORT. Port 0 picks a free port "
			       "(the log says which).", .serve_only = true },
	[CK_SERVER_THREADS] = { "server", "threads", T_INT, "0", 0, 256, NULL, NULL, NULL,
				F(server_threads),
				"HTTP worker threads; 0 means one per CPU core." },
	[CK_SERVER_MAX_CONNECTIONS] = { "server", "max_connections", T_INT, "10000", 1, 1000000,
					NULL, NULL, NULL, F(server_max_connections),
					"Open connections at most; more are refused at accept." },
	[CK_SERVER_CONNECTION_MEMORY] = { "server", "connection_memory", T_SIZE, "16KiB", 8 * KiB,
					  16 * MiB, NULL, NULL, NULL,
					  F(server_connection_memory),
					  "Memory pool per connection (request line, headers, read "
					  "buffer). Must be at least limits.header_bytes + 4KiB." },
	[CK_SERVER_HEADER_TIMEOUT] = { "server", "header_timeout", T_DURATION, "10s", 1 * SEC,
				       3600 * SEC, NULL, NULL, NULL, F(server_header_timeout_ms),
				       "A client must send a request's complete headers within "
				       "this time, however slowly it trickles them." },
	[CK_SERVER_IDLE_TIMEOUT] = { "server", "idle_timeout", T_DURATION, "60s", 1 * SEC,
				     86400 * SEC, NULL, NULL, NULL, F(server_idle_timeout_ms),
				     "A connection with no traffic for this long is closed." },
	[CK_SERVER_SHUTDOWN_TIMEOUT] = { "server", "shutdown_timeout", T_DURATION, "10s", 0,
					 600 * SEC, NULL, NULL, NULL,
					 F(server_shutdown_timeout_ms),
					 "On SIGTERM or SIGINT, how long in-flight requests may "
					 "take to finish before the server exits anyway." },
	[CK_STORAGE_DATA_DIR] = { "storage", "data_dir", T_STR, "./data", 0, 0, NULL, "--data",
				  "DIR", F(storage_data_dir),
				  "Directory for the SQLite database (cairn.db) and the blob "
				  "directory (blobs/). cairn serve creates it if missing; other "
				  "commands refuse one that is missing." },
	[CK_STORAGE_DATABASE] = { "storage", "database", T_ENUM, "sqlite", 0, 0, "sqlite", NULL,
				  NULL, F(storage_database),
				  "Metadata store backend." },
	[CK_STORAGE_BLOBS] = { "storage", "blobs", T_ENUM, "fs", 0, 0, "fs", NULL, NULL,
			       F(storage_blobs),
			       "Blob store backend: fs keeps blobs under data_dir/blobs." },
	[CK_SERVER_PUBLIC_URL] = { "server", "public_url", T_OPTSTR, "", 0, 0, NULL, NULL, NULL,
				   F(server_public_url),
				   "The address users reach the server at, for links in e-mails "
				   "(https://sync.example.org). Empty: http:// and the address "
				   "listened on, and a warning at start when that is 0.0.0.0 or ::." },
	[CK_SERVER_EVENTS_HEARTBEAT] = { "server", "events_heartbeat", T_DURATION, "15s", 100,
					 3600 * SEC, NULL, NULL, NULL,
					 F(server_events_heartbeat_ms),
					 "How often an event stream gets a heartbeat comment; each "
					 "heartbeat also checks that the stream's token still works." },
	[CK_SERVER_BODY_MIN_RATE] = { "server", "body_min_rate", T_SIZE, "1KiB", 0, 1 * GiB, NULL,
				      NULL, NULL, F(server_body_min_rate),
				      "Bytes per second a request body must average over each "
				      "window of server.body_grace, the first from the end of its "
				      "headers; a slower client is cut off. 0: no minimum." },
	[CK_SERVER_BODY_GRACE] = { "server", "body_grace", T_DURATION, "10s", 1 * SEC, 3600 * SEC,
				   NULL, NULL, NULL, F(server_body_grace_ms),
				   "The window over which server.body_min_rate is measured." },
	[CK_SERVER_MAX_CONNECTIONS_PER_ADDRESS] = {
		"server", "max_connections_per_address", T_INT, "256", 1, 1000000, NULL, NULL,
		NULL, F(server_max_connections_per_address),
		"Open connections from one client address at most; more are closed at accept. "
		"Trusted proxies are exempt." },
	[CK_SERVER_TRUSTED_PROXIES] = { "server", "trusted_proxies", T_OPTSTR, "", 0, 0, NULL, NULL,
					NULL, F(server_trusted_proxies),
					"Reverse proxies, as addresses or CIDR ranges separated by "
					"commas (127.0.0.1, 10.0.0.0/8, ::1). Their connections are "
					"exempt from max_connections_per_address, and for them the "
					"client is the rightmost X-Forwarded-For entry that is not "
					"itself a trusted proxy. Empty: X-Forwarded-For is ignored." },
	[CK_LIMITS_HEADER_BYTES] = { "limits", "header_bytes", T_SIZE, "8KiB", 1 * KiB, 1 * MiB,
				     NULL, NULL, NULL, F(limits_header_bytes),
				     "Request line plus headers, at most; more gets 431." },
	[CK_LIMITS_JSON_BODY_BYTES] = { "limits", "json_body_bytes", T_SIZE, "16MiB", 1 * KiB,
					1 * GiB, NULL, NULL, NULL, F(limits_json_body_bytes),
					"A JSON request body, at most; more gets 413." },
	[CK_LIMITS_JSON_DEPTH] = { "limits", "json_depth", T_INT, "32", 2, 1000, NULL, NULL, NULL,
				   F(limits_json_depth),
				   "Nesting depth of a JSON request body, at most; deeper gets "
				   "400." },
	[CK_LIMITS_JSON_VALUES] = { "limits", "json_values", T_INT, "200000", 10, 100000000, NULL,
				    NULL, NULL, F(limits_json_values),
				    "Values (objects, arrays, strings, numbers, literals) in one JSON "
				    "request body, at most, counted before it is parsed; more gets 413. "
				    "A parsed value costs up to about 800 bytes." },
	[CK_LIMITS_AUTH_BODY_BYTES] = { "limits", "auth_body_bytes", T_SIZE, "8KiB", 1 * KiB,
					1 * MiB, NULL, NULL, NULL, F(limits_auth_body_bytes),
					"The body of a credential request (sign-up, login, refresh, "
					"logout, confirm, forgot, reset, password change, account "
					"deletion), at most; more gets 413." },
	[CK_LIMITS_PUSH_CHANGES] = { "limits", "push_changes", T_INT, "1000", 1, 100000, NULL,
				     NULL, NULL, F(limits_push_changes),
				     "Changes in one push, at most; more gets 413." },
	[CK_LIMITS_PUSH_BLOB_REFS] = { "limits", "push_blob_refs", T_INT, "4096", 0, 1000000, NULL,
				       NULL, NULL, F(limits_push_blob_refs),
				       "Blob references in one push (each change's blobs, summed), at "
				       "most; more gets 413." },
	[CK_LIMITS_PUSH_STORED_BYTES] = { "limits", "push_stored_bytes", T_SIZE, "16MiB", 1 * MiB,
					  1 * GiB, NULL, NULL, NULL, F(limits_push_stored_bytes),
					  "Stored JSON one push may make the server parse inside the "
					  "write transaction (each patch counts the record it patches, "
					  "a merge the later changes it looks through), at most; more "
					  "gets 413." },
	[CK_LIMITS_RECORD_BYTES] = { "limits", "record_bytes", T_SIZE, "1MiB", 64, 64 * MiB, NULL,
				     NULL, NULL, F(limits_record_bytes),
				     "One record's data (or patch) as JSON text, at most; more gets "
				     "400." },
	[CK_LIMITS_PAGE] = { "limits", "page", T_INT, "1000", 1, 100000, NULL, NULL, NULL,
			     F(limits_page),
			     "Items in one page of changes, records, blobs or hashes asked "
			     "about, at most (a larger limit= is 400)." },
	[CK_LIMITS_WAIT] = { "limits", "wait", T_DURATION, "60s", 0, 3600 * SEC, NULL, NULL, NULL,
			     F(limits_wait_ms),
			     "How long a pull with wait= may be held, at most." },
	[CK_SYNC_RETENTION] = { "sync", "retention", T_DURATION, "30d", 0, 3650 * 86400 * SEC, NULL,
				NULL, NULL, F(sync_retention_ms),
				"Superseded changes and tombstones younger than this are kept; older "
				"ones below every active device's cursor may be pruned." },
	[CK_SYNC_GC_INTERVAL] = { "sync", "gc_interval", T_DURATION, "1h", 0, 30 * 86400 * SEC, NULL,
				  NULL, NULL, F(sync_gc_interval_ms),
				  "How often the server prunes changes and collects unused blobs on its own; "
				  "0 leaves both to cairn gc." },
	[CK_SYNC_DEVICE_IDLE] = { "sync", "device_idle", T_DURATION, "90d", 0, 3650 * 86400 * SEC,
				  NULL, NULL, NULL, F(sync_device_idle_ms),
				  "A device unseen for this long no longer holds pruning back; when it "
				  "returns below the horizon it re-bootstraps (410 cursor_expired)." },
	[CK_SYNC_MAX_CLOCK_SKEW] = { "sync", "max_clock_skew", T_DURATION, "5m", 0, 86400 * SEC,
				     NULL, NULL, NULL, F(sync_max_clock_skew_ms),
				     "How far ahead of the server's clock a change's client_ts may "
				     "be; further gets 400 clock_skew." },
	[CK_BLOBS_MAX_SIZE] = { "blobs", "max_size", T_SIZE, "4GiB", 1 * KiB, 1024 * GiB, NULL,
				NULL, NULL, F(blobs_max_size),
				"One blob, at most; a bigger upload gets 413 as soon as its "
				"Content-Length or its stream shows it." },
	[CK_BLOBS_USER_QUOTA] = { "blobs", "user_quota", T_SIZE, "0", 0, 1024 * 1024 * GiB, NULL,
				  NULL, NULL, F(blobs_user_quota),
				  "Bytes of blobs one user may hold (the blobs they uploaded, each "
				  "counted once); 0: no quota. More gets 413 quota_exceeded." },
	[CK_BLOBS_REALM_QUOTA] = { "blobs", "realm_quota", T_SIZE, "0", 0, 1024 * 1024 * GiB,
				   NULL, NULL, NULL, F(blobs_realm_quota),
				   "Bytes of blobs all users of one realm may hold together; 0: no "
				   "quota." },
	[CK_BLOBS_GC_GRACE] = { "blobs", "gc_grace", T_DURATION, "24h", 0, 3650 * 86400 * SEC,
				NULL, NULL, NULL, F(blobs_gc_grace_ms),
				"A blob nobody holds or references is deleted only once it has been "
				"untouched (not uploaded or referenced) for this long." },
	[CK_BLOBS_SENDFILE] = { "blobs", "sendfile", T_BOOL, "true", 0, 0, NULL, NULL, NULL,
				F(blobs_sendfile),
				"Downloads from the fs store are sent by the kernel (sendfile); false "
				"reads and writes them through the server instead, for filesystems "
				"where sendfile misbehaves (some network and shared-folder mounts)." },
	[CK_AUTH_PASSWORD_MEMORY] = { "auth", "password_memory", T_SIZE, "19MiB", 8 * KiB,
				      1 * GiB, NULL, NULL, NULL, F(auth_password_memory),
				      "Memory of one argon2id password hash. Changing it applies to "
				      "passwords set afterwards." },
	[CK_AUTH_PASSWORD_PASSES] = { "auth", "password_passes", T_INT, "2", 1, 20, NULL, NULL,
				      NULL, F(auth_password_passes),
				      "Passes of one argon2id password hash." },
	[CK_RATELIMIT_PER_ADDRESS] = { "ratelimit", "per_address", T_INT, "60", 1, 1000000, NULL,
				       NULL, NULL, F(ratelimit_per_address),
				       "Credential requests (login, register, refresh, forgot, "
				       "reset, confirm) per client address per minute." },
	[CK_RATELIMIT_PER_ACCOUNT] = { "ratelimit", "per_account", T_INT, "10", 1, 1000000, NULL,
				       NULL, NULL, F(ratelimit_per_account),
				       "Credential requests naming one account per minute." },
	[CK_MAIL_SMTP_URL] = { "mail", "smtp_url", T_OPTSTR, "", 0, 0, NULL, NULL, NULL,
			       F(mail_smtp_url),
			       "SMTP server: smtp://host:587 (STARTTLS when offered) or "
			       "smtps://host:465. Empty: mails are written to the log instead." },
	[CK_MAIL_FROM] = { "mail", "from", T_STR, "cairn@localhost", 0, 0, NULL, NULL, NULL,
			   F(mail_from), "Sender address of the server's mails." },
	[CK_MAIL_USER] = { "mail", "user", T_OPTSTR, "", 0, 0, NULL, NULL, NULL, F(mail_user),
			   "SMTP login name; empty for none." },
	[CK_MAIL_PASSWORD] = { "mail", "password", T_OPTSTR, "", 0, 0, NULL, NULL, NULL,
			       F(mail_password), "SMTP password." },
	[CK_MAIL_STARTTLS] = { "mail", "starttls", T_ENUM, "try", 0, 0, "try|always|never", NULL,
			       NULL, F(mail_starttls),
			       "For smtp:// URLs: use STARTTLS when offered (try), insist on it "
			       "(always), or never." },
	[CK_ADMIN_USER] = { "admin", "user", T_OPTSTR, "", 0, 0, NULL, "--admin-user", "NAME",
			    F(admin_user),
			    "At start-up, create this admin in realm default if no admin exists.", .serve_only = true },
	[CK_ADMIN_PASSWORD] = { "admin", "password", T_OPTSTR, "", 0, 0, NULL, "--admin-pass",
				"PASS", F(admin_password), "The password for admin.user.", .serve_only = true },
	[CK_LOG_LEVEL] = { "log", "level", T_ENUM, "info", 0, 0, "debug|info|warn|error",
			   "--log-level", "LEVEL", F(log_level),
			   "Least severe level written to standard error." },
	[CK_LOG_FORMAT] = { "log", "format", T_ENUM, "text", 0, 0, "text|json", "--log-format",
			    "FORMAT", F(log_format),
			    "text for people, json for one JSON object per line." },
	[CK_LOG_ACCESS] = { "log", "access", T_BOOL, "true", 0, 0, NULL, NULL, NULL,
			    F(log_access),
			    "One line per request: request id, client address, method, path, "
			    "status, bytes, duration." },
};

/* cairn serve: runs the server until SIGTERM or SIGINT, then drains and exits 0. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../core/accounts.h"
#include "../core/commit.h"
#include "../core/core.h"
#include "../core/mail.h"
#include "../core/gc.h"
#include "../core/hub.h"
#include "../core/ratelimit.h"
#include "../core/tokencache.h"
#include "../http/app.h"
#include "../http/compat/compat.h"
#include "../http/helpers.h"
#include "../http/server.h"
#include "../util/clock.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/log.h"
#include "../util/netaddr.h"
#include "../util/version.h"
#include "cli.h"

static void usage(void)
{
	printf("Usage: cairn serve [OPTIONS]\n\n"
	       "Runs the Cairn server. Configuration comes from flags, then CAIRN_* environment\n"
	       "variables, then the --config file, then built-in defaults; with none of them\n"
	       "it serves on http://127.0.0.1:8080 with its data in ./data.\n\n"
	       "Options:\n");
	cli_print_config_flags(true);
	printf("\nSIGTERM or SIGINT stops accepting connections, lets in-flight requests finish\n"
	       "(at most server.shutdown_timeout), closes the database and exits 0.\n");
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Descriptors the server needs besides its connections: SQLite (a writer and a reader per
 * thread, each with its WAL and shared-memory files), blob uploads and downloads in
 * flight, the listening socket, epoll, pipes, logs. */
#define FD_RESERVE(threads) (128 + 8 * (threads))

/* Raises the soft limit on open files to the hard one (the soft limit, often 1024, would
 * otherwise be the real connection limit, and accepts past it stall without a word), and
 * returns how many connections fit: server.max_connections, or less with a warning. */
static long open_files_for(int64_t max_connections, long threads)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return (long)max_connections;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			log_info("raised the open-file limit from %llu to %llu",
				 (unsigned long long)was, (unsigned long long)rl.rlim_max);
		else
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return (long)max_connections;
	long fit = (long)rl.rlim_cur - FD_RESERVE(threads);
	if (fit < 16)
		fit = 16;
	if (max_connections > fit) {
		log_warn("server.max_connections is %lld but the open-file limit (%llu) leaves "
			 "room for %ld connections: more are refused at accept; raise the limit "
			 "(ulimit -n, LimitNOFILE=) to serve more",
			 (long long)max_connections, (unsigned long long)rl.rlim_cur, fit);
		return fit;
	}
	return (long)max_connections;
}

int cmd_serve(int argc, char **argv)
{
	struct config c;
	char *rest[64];
	int nrest;
	bool help;
	char err[512];
	if (argc > 64) {
		fprintf(stderr, "cairn serve: too many arguments\n");
		return EXIT_USAGE;
	}
	int rc = cli_load_config(argc, argv, &c, rest, &nrest, &help);
	if (help) {
		usage();
		return EXIT_OK;
	}
	if (rc != 0)
		return rc;
	if (nrest) {
		fprintf(stderr, "cairn serve: unexpected argument '%s' (see --help)\n", rest[0]);
		config_free(&c);
		return EXIT_USAGE;
	}
	log_setup(log_cfg(&c)->level, log_cfg(&c)->format);

	/* Signals are taken by sigwait below; every thread started later inherits the mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP); /* logs go to standard error: nothing to reopen, so it stops */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct app app = { .cfg = &c, .started_ms = clock_wall_ms() };
	struct core core = { 0 };
	struct gc_task *gc = NULL;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct http_server *srv = NULL;
	/* adapters served at the root of their own ports, and their mounts (borrowed by them) */
	struct http_server *own[HTTP_MAX_MOUNTS] = { 0 };
	struct http_mount root_mounts[HTTP_MAX_MOUNTS];
	size_t nown = 0;
	int listen_fd = -1, port = 0;
	long threads = server_cfg(&c)->threads ? server_cfg(&c)->threads : sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	rc = EXIT_FAIL;

	int lock_fd = -1;
	if (cli_lock_data(storage_cfg(&c)->data_dir, true, &lock_fd, err, sizeof err) < 0) {
		log_error("%s", err);
		goto out;
	}
	int r = core_open(&core, &c, CORE_CREATE, (int)threads + 2, true, err, sizeof err);
	if (r < 0) {
		log_error("cannot open the data directory: %s", err);
		goto out;
	}
	app.core = &core;
	if (*admin_cfg(&c)->user && admin_bootstrap(&core, admin_cfg(&c)->user, admin_cfg(&c)->password, err,
					     sizeof err) < 0) {
		log_error("%s", err);
		goto out;
	}
	core.rl = ratelimit_new();
	core.tokens = tokencache_new();
	app.hub = hub_new();
	core.hub = app.hub;
	app.pages = page_cache_new();
	core.cursors = cursor_memo_new(&core);
	core.mailer = mailer_start(&core);
	core.committer = committer_start(&core);
	if (!core.rl || !core.tokens || !core.mailer || !app.hub || !app.pages || !core.cursors ||
	    !core.committer) {
		log_error("out of memory");
		goto out;
	}
	struct netrange_list proxies;
	if (netrange_list_parse(server_cfg(&c)->trusted_proxies, &proxies, err, sizeof err) < 0) {
		log_error("server.trusted_proxies: %s", err); /* config_validate said so first */
		goto out;
	}
	long max_conns = open_files_for(server_cfg(&c)->max_connections, threads);
	r = http_listen(server_cfg(&c)->listen, &listen_fd, &port, err, sizeof err);
	if (r < 0) {
		log_error("%s", err);
		goto out;
	}
	char host[256];
	int ignored;
	config_split_addr(server_cfg(&c)->listen, host, sizeof host, &ignored);
	bool v6 = strchr(host, ':') != NULL;
	if (*server_cfg(&c)->public_url) {
		core_set_public_url(&core, server_cfg(&c)->public_url);
	} else {
		/* Links in mails need an address users reach: without public_url, the one
		 * listened on (with the port bound, when it was 0). */
		snprintf(core.public_url, sizeof core.public_url, "http://%s%s%s:%d", v6 ? "[" : "",
			 host, v6 ? "]" : "", port);
		if (!*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "::"))
			log_warn("server.public_url is not set and the server listens on every "
				 "address: links in mails would point at %s, which nobody can "
				 "open. Set server.public_url to the address users reach (see "
				 "docs/deployment.md)",
				 core.public_url);
	}
	/* an adapter's realm that is missing is the operator's to fix: said once, at start */
	for (size_t i = 0; i < compat_adapters_count; i++) {
		const struct compat_adapter *a = &compat_adapters[i];
		struct realm rl;
		struct verr ve = { 0 };
		if (compat_cfg(&c, a)->enabled && a->realm &&
		    acct_realm(&core, a->realm(&c), &rl, &ve) == -ERR_INVALID)
			log_warn("%s.realm '%s' does not exist: create it (cairn realm add %s); until "
				 "then %s has no realm to put users in",
				 a->name, a->realm(&c), a->realm(&c), a->name);
	}
	/* the protocol adapters that are on, each under its prefix */
	struct http_mount mounts[HTTP_MAX_MOUNTS];
	size_t nmounts = 0;
	for (size_t i = 0; i < compat_adapters_count && nmounts < HTTP_MAX_MOUNTS; i++)
		if (compat_cfg(&c, &compat_adapters[i])->enabled)
			mounts[nmounts++] = *compat_adapters[i].mount;
	struct http_server_opts o = {
		.listen_fd = listen_fd,
		.threads = (unsigned)threads,
		.max_connections = (unsigned)max_conns,
		.connection_memory = (size_t)server_cfg(&c)->connection_memory,
		.header_timeout_ms = server_cfg(&c)->header_timeout_ms,
		.idle_timeout_ms = server_cfg(&c)->idle_timeout_ms,
		.header_bytes = (size_t)limits_cfg(&c)->header_bytes,
		.json_body_bytes = (size_t)limits_cfg(&c)->json_body_bytes,
		.auth_body_bytes = (size_t)limits_cfg(&c)->auth_body_bytes,
		.json_depth = (int)limits_cfg(&c)->json_depth,
		.json_values = (long)limits_cfg(&c)->json_values,
		.body_min_rate = server_cfg(&c)->body_min_rate,
		.body_grace_ms = server_cfg(&c)->body_grace_ms,
		.max_connections_per_address = (long)server_cfg(&c)->max_connections_per_address,
		.trusted_proxies = &proxies,
		.access_log = log_cfg(&c)->access,
		.gzip_level = (int)server_cfg(&c)->gzip_level,
		.gzip_min_bytes = (size_t)server_cfg(&c)->gzip_min_bytes,
		.pre_body = app_check_route_or_reply,
		.routes = app_routes,
		.nroutes = app_routes_count,
		.mounts = mounts,
		.nmounts = nmounts,
		.app = &app,
	};
	r = http_server_start(&o, &srv, err, sizeof err);
	if (r < 0) {
		log_error("%s", err);
		goto out;
	}
	listen_fd = -1; /* the server owns it now */
	/* adapters with a port of their own: the protocol at its root (the empty prefix) */
	for (size_t i = 0; i < compat_adapters_count; i++) {
		const struct compat_adapter *a = &compat_adapters[i];
		const struct compat_config *cc = compat_cfg(&c, a);
		if (!cc->enabled && *cc->listen)
			log_warn("%s.listen is set but %s.enabled is off: not served", a->name, a->name);
		if (!cc->enabled || !*cc->listen)
			continue;
		int fd = -1, aport = 0;
		if (http_listen(cc->listen, &fd, &aport, err, sizeof err) < 0) {
			log_error("%s.listen: %s (each adapter's listen needs an address of its own, "
				  "apart from server.listen)",
				  a->name, err);
			goto out;
		}
		root_mounts[nown] = *a->mount;
		root_mounts[nown].prefix = "";
		struct http_server_opts ao = o;
		ao.listen_fd = fd;
		ao.routes = NULL;
		ao.nroutes = 0;
		ao.mounts = &root_mounts[nown];
		ao.nmounts = 1;
		if (http_server_start(&ao, &own[nown], err, sizeof err) < 0) {
			log_error("%s.listen: %s", a->name, err);
			goto out;
		}
		nown++;
		log_info("%s's protocol also at the root of %s (port %d)", a->name, cc->listen, aport);
	}
	gc = gc_task_start(&core);
	log_info("cairn %s (%s) listening on http://%s%s%s:%d (data in %s, %ld threads)",
		 cairn_version(), cairn_commit(), v6 ? "[" : "", host, v6 ? "]" : "", port,
		 storage_cfg(&c)->data_dir, threads);

	int sig = 0;
	while (sigwait(&sigs, &sig) != 0)
		;
	log_info("received %s: draining in-flight requests (at most %lldms)",
		 sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP (no log file to reopen)" : "SIGINT",
		 (long long)server_cfg(&c)->shutdown_timeout_ms);
	http_server_quiesce(srv);
	for (size_t i = 0; i < nown; i++)
		http_server_quiesce(own[i]);
	hub_close(app.hub); /* waiting pulls and event streams end now, not at the deadline */
	uint64_t deadline = clock_mono_ns() + (uint64_t)server_cfg(&c)->shutdown_timeout_ms * 1000000u;
	int left;
	for (;;) {
		left = http_server_inflight(srv);
		for (size_t i = 0; i < nown; i++)
			left += http_server_inflight(own[i]);
		if (left == 0 || clock_mono_ns() >= deadline)
			break;
		sleep_ms(10);
	}
	if (left > 0)
		log_warn("shutdown timeout: closing %d unfinished requests", left);
	rc = EXIT_OK;
out:
	/* queued pushes are committed and answered while the server can still send */
	core.committer = committer_stop(core.committer);
	gc = gc_task_stop(gc);
	if (app.hub)
		hub_close(app.hub);
	/* Ended streams must be flushed and closed before the daemon stops. */
	for (int i = 0; i < 200 && atomic_load(&app.streams) > 0; i++)
		sleep_ms(10);
	http_server_stop(srv);
	for (size_t i = 0; i < nown; i++)
		http_server_stop(own[i]);
	app.hub = hub_free(app.hub);
	app.pages = page_cache_free(app.pages);
	core.cursors = cursor_memo_free(core.cursors);
	core.mailer = mailer_stop(core.mailer);
	core.rl = ratelimit_free(core.rl);
	core.tokens = tokencache_free(core.tokens);
	if (listen_fd >= 0)
		close(listen_fd);
	core_close(&core);
	if (lock_fd >= 0)
		close(lock_fd); /* the data directory is free for another server now */
	if (rc == EXIT_OK)
		log_info("stopped");
	config_free(&c);
	curl_global_cleanup();
	return rc;
}

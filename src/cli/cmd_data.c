/* cairn gc|check (safe while the server runs) and migrate|restore-epochs (which hold
 * the data directory's lock): the data directory as a whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/sync.h"
#include "../core/blobs.h"
#include "../core/gc.h"
#include "../util/clock.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/log.h"
#include "cli.h"
#include "data.h"

/* --- cairn gc and cairn check --- */

/* The prologue of a command that takes no arguments and works on the blobs as well:
 * usage for --help (then *ret_done), a stray argument refused, the blob store opened.
 * 0 when d is ready (close_data later); otherwise the exit status. */
static int open_blob_data(struct data *d, struct args *a, int argc, char **argv,
			  const char *const *extra, const char *cmd, const char *usage,
			  bool *ret_done)
{
	bool help = false;
	int r = cli_open_data(d, argc, argv, extra, a, &help);
	if (help) {
		fputs(usage, stdout);
		cli_print_config_flags(false);
		*ret_done = true;
		return EXIT_OK;
	}
	if (r)
		return r;
	char err[512];
	if (cli_count_positional(a)) {
		fprintf(stderr, "cairn %s: unexpected argument '%s'\n", cmd, cli_positional(a, 0));
		r = EXIT_USAGE;
	} else if (core_open_blobs(&d->core, err, sizeof err) < 0) {
		fprintf(stderr, "cairn %s: cannot open %s\n", cmd, err);
		r = EXIT_FAIL;
	}
	if (r)
		cli_close_data(d);
	return r;
}

int cmd_gc(int argc, char **argv)
{
	static const char *const extra[] = { NULL };
	struct data d;
	struct args a;
	bool done = false;
	int r = open_blob_data(
		&d, &a, argc, argv, extra, "gc",
		"Usage: cairn gc [OPTIONS]\n\n"
		"Prunes the change log of every space: superseded changes and tombstones\n"
		"older than sync.retention and below the cursor of every active device.\n"
		"A device whose cursor falls below the pruned part re-bootstraps from\n"
		"records (410 cursor_expired). Then deletes the blobs nobody holds or\n"
		"references any more and nobody touched for blobs.gc_grace, and files\n"
		"left by uploads a crash cut off. The server also does both every\n"
		"sync.gc_interval. Safe while the server runs.\n\nOptions:\n",
		&done);
	if (r || done)
		return r;
	int64_t ch = 0, rec = 0;
	struct blob_gc_stats gs;
	int e = sync_prune(&d.core, &ch, &rec);
	if (e == 0)
		e = blob_gc(&d.core, &gs);
	if (e == -ERR_BUSY) {
		printf("pruned %lld changes and %lld tombstones; blobs: another collection holds "
		       "the lease (the server's pass, or one stopped less than two minutes ago), "
		       "so the blobs are left to it\n",
		       (long long)ch, (long long)rec);
		e = 0;
	} else if (e < 0) {
		r = cli_report("gc", e, NULL);
	} else {
		printf("pruned %lld changes and %lld tombstones; deleted %lld blobs (%lld bytes, "
		       "%lld unrecorded files); finished %lld deletions an interrupted pass "
		       "had begun\n",
		       (long long)ch, (long long)rec, (long long)gs.deleted, (long long)gs.bytes,
		       (long long)gs.orphans, (long long)gs.finished);
	}
	cli_close_data(&d);
	return r;
}

struct bar {
	bool on;
	uint64_t started_ns, last_ns;
};

static void draw_bar(void *arg, uint64_t done, uint64_t total)
{
	struct bar *b = arg;
	uint64_t now = clock_mono_ns();
	if (!b->on || (now - b->last_ns < 100000000u && done < total))
		return;
	b->last_ns = now;
	int pct = total ? (int)(done * 100 / total) : 100;
	char bar[31];
	int fill = pct * 30 / 100;
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	double secs = (double)(now - b->started_ns) / 1e9;
	fprintf(stderr, "\r[%s] %3d%%  %.1f / %.1f MiB  %.0f MiB/s ", bar, pct,
		(double)done / 1048576.0, (double)total / 1048576.0,
		secs > 0 ? (double)done / 1048576.0 / secs : 0.0);
	fflush(stderr);
}

int cmd_check(int argc, char **argv)
{
	static const char *const extra[] = { "--no-progress", NULL };
	struct data d;
	struct args a;
	bool done = false;
	int r = open_blob_data(
		&d, &a, argc, argv, extra, "check",
		"Usage: cairn check [--no-progress] [OPTIONS]\n\n"
		"Checks the blob store against the database: every recorded blob's file\n"
		"is there, has the recorded size and hashes to its name; every file is\n"
		"recorded (files younger than blobs.gc_grace may be uploads in progress\n"
		"and are not counted). Prints one line per problem and exits 1 when there\n"
		"is any, 0 otherwise. Shows a progress bar on a terminal. Safe while the\n"
		"server runs (blobs collected meanwhile may be reported missing).\n\n"
		"Options:\n"
		"  --no-progress     no progress bar, even on a terminal\n",
		&done);
	if (r || done)
		return r;
	struct bar bar = { .on = !cli_flag(&a, "--no-progress") && isatty(2), .started_ns = clock_mono_ns() };
	struct blob_check_stats cs;
	int e = blob_check(&d.core, stdout, draw_bar, &bar, &cs);
	if (bar.on)
		fputc('\n', stderr);
	if (e < 0) {
		r = cli_report("check", e, NULL);
	} else {
		int64_t bad = cs.missing + cs.wrong_size + cs.corrupt + cs.orphans;
		printf("checked %lld blobs (%lld bytes): %lld missing, %lld of the wrong size, "
		       "%lld corrupt, %lld unrecorded files (%lld recent ones not counted)\n",
		       (long long)cs.checked, (long long)cs.bytes, (long long)cs.missing,
		       (long long)cs.wrong_size, (long long)cs.corrupt, (long long)cs.orphans,
		       (long long)cs.recent_orphans);
		r = bad ? EXIT_FAIL : EXIT_OK;
	}
	cli_close_data(&d);
	return r;
}

/* A command that works on the data directory alone, holding its lock (so never under a
 * running server): arguments and --help, the lock, then run, which prints its own result
 * and errors (after "cairn NAME: ") and returns an exit status. */
static int locked_command(int argc, char **argv, const char *name, const char *usage,
			  int (*run)(struct config *c, char *err, size_t errlen))
{
	struct config c;
	char *rest[MAX_ARGS];
	int nrest;
	bool help;
	if (argc > MAX_ARGS) {
		fprintf(stderr, "cairn %s: too many arguments\n", name);
		return EXIT_USAGE;
	}
	int r = cli_load_config_ex(argc, argv, NULL, false, &c, rest, &nrest, &help);
	if (help) {
		printf("%s\nOptions:\n", usage);
		cli_print_config_flags(false);
		return EXIT_OK;
	}
	if (r)
		return r;
	if (nrest) {
		fprintf(stderr, "cairn %s: unexpected argument '%s'\n", name, rest[0]);
		config_free(&c);
		return EXIT_USAGE;
	}
	log_setup("warn", log_cfg(&c)->format);
	char err[512] = "";
	int lock_fd = -1;
	if (cli_lock_data(storage_cfg(&c)->data_dir, false, &lock_fd, err, sizeof err) < 0)
		r = EXIT_FAIL;
	else
		r = run(&c, err, sizeof err);
	if (r != EXIT_OK && *err)
		fprintf(stderr, "cairn %s: %s\n", name, err);
	if (lock_fd >= 0)
		close(lock_fd);
	config_free(&c);
	return r;
}

static int run_migrate(struct config *c, char *err, size_t errlen)
{
	struct core core;
	int v = 0;
	if (core_open(&core, c, CORE_EXISTING, 1, false, err, errlen) == 0) {
		core_schema_version(&core, &v);
		printf("the database is at schema version %d already\n", v);
		core_close(&core);
		return EXIT_OK;
	}
	if (core_open(&core, c, CORE_MIGRATE, 1, false, err, errlen) < 0)
		return EXIT_FAIL;
	core_schema_version(&core, &v);
	printf("migrated the database to schema version %d\n", v);
	core_close(&core);
	return EXIT_OK;
}

int cmd_migrate(int argc, char **argv)
{
	return locked_command(argc, argv, "migrate",
			      "Usage: cairn migrate [OPTIONS]\n\n"
			      "Brings the database in the data directory up to this cairn's schema, "
			      "as\ncairn serve does at start. It takes the data directory's lock, so "
			      "it\nrefuses while a server runs there: stop the server first. Every "
			      "other\ncommand refuses a database that needs migrating. A migrated "
			      "database\ncannot be used by an older cairn: keep a copy (stop, copy the "
			      "data\ndirectory) if you may want to go back.\n",
			      run_migrate);
}

static int run_restore_epochs(struct config *c, char *err, size_t errlen)
{
	struct core core;
	if (core_open(&core, c, CORE_EXISTING, 1, false, err, errlen) < 0)
		return EXIT_FAIL;
	int64_t n = 0;
	int e = sync_epochs_renew(&core, &n);
	core_close(&core);
	if (e < 0) {
		snprintf(err, errlen, "%s", err_str(e));
		return EXIT_FAIL;
	}
	printf("gave %lld spaces a new epoch: devices start them over at their next pull\n",
	       (long long)n);
	return EXIT_OK;
}

int cmd_restore_epochs(int argc, char **argv)
{
	return locked_command(argc, argv, "restore-epochs",
			      "Usage: cairn restore-epochs [OPTIONS]\n\n"
			      "The step after replacing the data directory with a backup: gives every\n"
			      "space a new log epoch, so a device's next pull that sends the epoch it\n"
			      "knew answers 410 cursor_expired, and the device starts the space over\n"
			      "from its records (pushing again what it wrote after the backup was\n"
			      "taken) instead of skipping the changes the restored log numbers anew.\n"
			      "It takes the data directory's lock, so it refuses while a server runs\n"
			      "there.\n",
			      run_restore_epochs);
}

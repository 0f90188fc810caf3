/* The commands that work on a data directory: their arguments, opening it, reporting. */
#include "data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/accounts.h"
#include "../http/app.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/log.h"
#include "cli.h"

static bool takes_value(const struct args *a, const char *name)
{
	size_t n = strlen(name);
	for (const char *const *e = a->extra; *e; e++)
		if (strlen(*e) == n + 1 && !strncmp(*e, name, n) && (*e)[n] == '=')
			return true;
	return false;
}

/* The value of --name, or NULL. */
const char *cli_opt(const struct args *a, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < a->n; i++) {
		if (!strncmp(a->v[i], name, n) && a->v[i][n] == '=')
			return a->v[i] + n + 1;
		if (!strcmp(a->v[i], name) && i + 1 < a->n)
			return a->v[i + 1];
	}
	return NULL;
}

bool cli_flag(const struct args *a, const char *name)
{
	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], name))
			return true;
	return false;
}

/* The k-th argument that is not an option or an option's value. */
const char *cli_positional(const struct args *a, int k)
{
	for (int i = 0; i < a->n; i++) {
		if (!strncmp(a->v[i], "--", 2)) {
			if (!strchr(a->v[i], '=') && takes_value(a, a->v[i]))
				i++;
			continue;
		}
		if (k-- == 0)
			return a->v[i];
	}
	return NULL;
}

int cli_count_positional(const struct args *a)
{
	int n = 0;
	while (cli_positional(a, n))
		n++;
	return n;
}

int cli_open_data(struct data *d, int argc, char **argv, const char *const *extra,
		     struct args *a, bool *ret_help)
{
	a->extra = extra;
	if (argc > MAX_ARGS) {
		fprintf(stderr, "cairn: too many arguments\n");
		return EXIT_USAGE;
	}
	int r = cli_load_config_ex(argc, argv, extra, false, &d->cfg, a->v, &a->n, ret_help);
	if (r || *ret_help)
		return r;
	log_setup("warn", log_cfg(&d->cfg)->format);
	char err[512];
	if (core_open(&d->core, &d->cfg, CORE_EXISTING, 1, false, err, sizeof err) < 0) {
		fprintf(stderr, "cairn: cannot open the database: %s\n", err);
		config_free(&d->cfg);
		return EXIT_FAIL;
	}
	/* links in mails a command queues: the configured address, else the one serve
	 * would listen on */
	const struct server_config *sv = server_cfg(&d->cfg);
	char url[600];
	if (*sv->public_url)
		snprintf(url, sizeof url, "%s", sv->public_url);
	else
		snprintf(url, sizeof url, "http://%s", sv->listen);
	core_set_public_url(&d->core, url);
	return 0;
}

void cli_close_data(struct data *d)
{
	core_close(&d->core);
	config_free(&d->cfg);
}


int cli_report(const char *what, int e, const struct verr *ve)
{
	if (e == -ERR_INVALID && ve && ve->n) {
		for (int i = 0; i < ve->n; i++)
			fprintf(stderr, "cairn %s: %s %s\n", what, ve->e[i].field, ve->e[i].msg);
		return EXIT_USAGE;
	}
	if (ve && ve->n) { /* say, a taken name or address: the field says which */
		fprintf(stderr, "cairn %s: %s %s\n", what, ve->e[0].field, ve->e[0].msg);
		return EXIT_FAIL;
	}
	fprintf(stderr, "cairn %s: %s\n", what, core_err_str(e));
	return EXIT_FAIL;
}

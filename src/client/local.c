/* The folder and the state file: see local.h. */
#include "local.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/files/fpath.h"

void fset_free(struct fset *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].local);
		free(s->v[i].target);
	}
	free(s->v);
	memset(s, 0, sizeof *s);
}

struct fentry *fset_add(struct fset *s, const struct fentry *e)
{
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 256;
		struct fentry *v = realloc(s->v, sizeof *v * (size_t)cap);
		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	struct fentry *x = &s->v[s->n];
	*x = *e;
	x->path = strdup(e->path);
	x->local = strdup(e->local ? e->local : e->path);
	x->target = e->target ? strdup(e->target) : NULL;
	if (!x->path || !x->local || (e->target && !x->target)) {
		free(x->path);
		free(x->local);
		free(x->target);
		return NULL;
	}
	s->n++;
	return x;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct fentry *)a)->path, ((const struct fentry *)b)->path);
}

void fset_sort(struct fset *s)
{
	if (s->n > 1)
		qsort(s->v, (size_t)s->n, sizeof *s->v, cmp_entry);
}

struct fentry *fset_find(const struct fset *s, const char *path)
{
	struct fentry key = { .path = (char *)path };
	return s->n ? bsearch(&key, s->v, (size_t)s->n, sizeof *s->v, cmp_entry) : NULL;
}

void fset_remove(struct fset *s, struct fentry *e)
{
	free(e->path);
	free(e->local);
	free(e->target);
	size_t i = (size_t)(e - s->v);
	memmove(e, e + 1, sizeof *e * ((size_t)s->n - i - 1));
	s->n--;
}

bool fentry_same(const struct fentry *a, const struct fentry *b)
{
	if (a->type != b->type || a->mode != b->mode)
		return false;
	if (a->type == FILE_DIR)
		return true;
	if (a->type == FILE_SYMLINK)
		return a->target && b->target && !strcmp(a->target, b->target);
	return a->size == b->size && a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns;
}

/* --- scanning --- */

struct scan {
	struct fset *out;
	struct fset *skipped; /* directories not read: nothing under them is judged */
	void (*warn)(const char *path, const char *why);
	char local[FPATH_MAX * 3 + 2]; /* the relative name on disk being walked */
	char norm[FPATH_MAX + 1];
};

static int walk(struct scan *sc, int dfd, size_t len, int depth);

static int visit(struct scan *sc, int dfd, const char *name, size_t len, int depth, bool *any)
{
	size_t nl = strlen(name);
	if (len + nl + 2 > sizeof sc->local) {
		sc->warn(sc->local, "path too long");
		return 0;
	}
	if (len)
		sc->local[len++] = '/';
	memcpy(sc->local + len, name, nl + 1);
	size_t at = len + nl;
	const char *rule, *why;
	if (fpath_normalize(sc->local, at, sc->norm, &rule, &why) < 0) {
		sc->warn(sc->local, why);
		return 0;
	}
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1; /* gone meanwhile */
	/* the permission bits (setuid, setgid and sticky are not synced: see syncer.c) */
	struct fentry e = { .path = sc->norm, .local = sc->local, .mode = (int)(st.st_mode & 0777),
			    .mtime_s = st.st_mtim.tv_sec, .mtime_ns = (int32_t)st.st_mtim.tv_nsec };
	if (S_ISREG(st.st_mode)) {
		e.type = FILE_REGULAR;
		e.size = st.st_size;
	} else if (S_ISLNK(st.st_mode)) {
		char t[FPATH_MAX + 1];
		ssize_t k = readlinkat(dfd, name, t, sizeof t - 1);
		if (k <= 0 || k >= (ssize_t)sizeof t - 1) {
			sc->warn(sc->local, "a link target that cannot be read or is too long");
			return 0;
		}
		t[k] = '\0';
		e.type = FILE_SYMLINK;
		e.target = t;
		e.size = k;
		e.mode = 0777;
		if (!fset_add(sc->out, &e))
			return -1;
		*any = true;
		return 0;
	} else if (S_ISDIR(st.st_mode)) {
		int sub = depth > 256 ? -1 : openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 && depth <= 256 && errno == ENOENT)
			return 0;
		if (sub < 0) {
			/* not read (too deep, or not readable): passed over, and nothing under it
			 * is taken for deleted */
			sc->warn(sc->local, depth > 256 ? "nested too deep" : strerror(errno));
			struct fentry k = { .path = sc->norm, .local = sc->local, .type = FILE_DIR };
			if (!fset_add(sc->skipped, &k))
				return -1;
			*any = true;
			return 0;
		}
		int before = sc->out->n;
		int r = walk(sc, sub, at, depth + 1);
		if (r < 0)
			return -1;
		*any = true;
		if (sc->out->n == before) { /* empty: kept as an entry of its own */
			sc->local[at] = '\0';
			if (fpath_normalize(sc->local, at, sc->norm, &rule, &why) < 0)
				return 0;
			e.type = FILE_DIR;
			if (!fset_add(sc->out, &e))
				return -1;
		}
		return 0;
	} else {
		sc->warn(sc->local, "not a regular file, directory or symbolic link");
		return 0;
	}
	if (!fset_add(sc->out, &e))
		return -1;
	*any = true;
	return 0;
}

static int walk(struct scan *sc, int dfd, size_t len, int depth)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -1;
	}
	int r = 0;
	bool any = false;
	struct dirent *de;
	while (r == 0 && (errno = 0, de = readdir(d))) {
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		if (depth == 0 && !strcmp(n, SYNC_DIR))
			continue;
		if (!strncmp(n, SYNC_TMP_PREFIX, strlen(SYNC_TMP_PREFIX)))
			continue;
		r = visit(sc, dirfd(d), n, len, depth, &any);
		sc->local[len] = '\0';
	}
	if (r == 0 && errno)
		r = -1;
	closedir(d);
	return r;
}

int local_scan(const char *dir, struct fset *out, struct fset *skipped,
	       void (*warn)(const char *path, const char *why))
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct scan *sc = calloc(1, sizeof *sc);
	if (!sc) {
		close(fd);
		return -1;
	}
	sc->out = out;
	sc->skipped = skipped;
	sc->warn = warn;
	int r = walk(sc, fd, 0, 0);
	free(sc);
	fset_sort(out);
	return r;
}

/* --- the state file --- */

static char type_char(enum file_type t)
{
	return t == FILE_DIR ? 'd' : t == FILE_SYMLINK ? 'l' : 'f';
}

void state_free(struct sync_state *st)
{
	fset_free(&st->files);
	memset(st, 0, sizeof *st);
}

/* A whole number in base (10 or 8) that is all of s. */
static bool num(const char *s, int base, int64_t *v)
{
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, base);
	*v = x;
	return *s && !*end && !errno;
}

int state_load(const char *dir, struct sync_state *st)
{
	memset(st, 0, sizeof *st);
	char p[4096];
	snprintf(p, sizeof p, "%s/%s/state", dir, SYNC_DIR);
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return errno == ENOENT ? 0 : -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	int r = 0;
	char epoch[40] = "";
	if (n <= 0 || sscanf(line, "cairn-sync 1 %ld %ld %39s", &st->space_id, &st->cursor,
			     epoch) < 2) {
		r = -1;
		errno = EINVAL;
	}
	snprintf(st->epoch, sizeof st->epoch, "%s", strcmp(epoch, "-") ? epoch : "");
	while (r == 0 && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		char *fld[9];
		int k = 0;
		for (char *s = line; k < 9; k++) {
			fld[k] = s;
			char *tab = strchr(s, '\t');
			if (!tab) {
				k++;
				break;
			}
			*tab = '\0';
			s = tab + 1;
		}
		int64_t size, ms, ns, mode, version;
		if (k != 9 || !num(fld[2], 10, &size) || !num(fld[3], 10, &ms) ||
		    !num(fld[4], 10, &ns) || !num(fld[5], 8, &mode) || !num(fld[7], 10, &version) ||
		    ns < 0 || ns > 999999999 || mode < 0 || mode > 07777) {
			r = -1;
			errno = EINVAL;
			break;
		}
		struct fentry e = { .path = fld[0], .local = fld[0],
				    .type = fld[1][0] == 'd'   ? FILE_DIR
					    : fld[1][0] == 'l' ? FILE_SYMLINK
							       : FILE_REGULAR,
				    .size = size, .mtime_s = ms, .mtime_ns = (int32_t)ns,
				    .mode = (int)mode, .version = version,
				    .target = *fld[8] ? fld[8] : NULL };
		snprintf(e.sha256, sizeof e.sha256, "%s", strcmp(fld[6], "-") ? fld[6] : "");
		if (!fset_add(&st->files, &e))
			r = -1;
	}
	free(line);
	fclose(f);
	fset_sort(&st->files);
	if (r < 0)
		state_free(st);
	return r;
}

int state_save(const char *dir, const struct sync_state *st)
{
	char d[4096], tmp[4200], fin[4200];
	snprintf(d, sizeof d, "%s/%s", dir, SYNC_DIR);
	if (mkdir(d, 0700) < 0 && errno != EEXIST)
		return -1;
	struct stat sb;
	if (lstat(d, &sb) < 0 || !S_ISDIR(sb.st_mode)) { /* never a link to elsewhere */
		errno = ENOTDIR;
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s/state.tmp", d);
	snprintf(fin, sizeof fin, "%s/state", d);
	unlink(tmp); /* whatever is there, a link included, goes; the new file is ours */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(f, "cairn-sync 1 %ld %ld %s\n", (long)st->space_id, (long)st->cursor,
		st->epoch[0] ? st->epoch : "-");
	for (int i = 0; i < st->files.n; i++) {
		const struct fentry *e = &st->files.v[i];
		fprintf(f, "%s\t%c\t%lld\t%lld\t%d\t%o\t%s\t%lld\t%s\n", e->path, type_char(e->type),
			(long long)e->size, (long long)e->mtime_s, (int)e->mtime_ns, e->mode,
			e->sha256[0] ? e->sha256 : "-", (long long)e->version,
			e->target ? e->target : "");
	}
	int r = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
	if (fclose(f) != 0)
		r = -1;
	if (r == 0 && rename(tmp, fin) < 0)
		r = -1;
	if (r == 0) {
		int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return r;
}

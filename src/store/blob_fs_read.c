/* The filesystem blob backend's reading (a reader with its descriptor, or with none when
 * blobs.sendfile is off), listing, and collection's trash. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/err.h"
#include "../util/log.h"
#include "blob_fs_int.h"

/* --- reading and listing --- */

struct fs_reader {
	struct blob_reader base;
	int own_fd; /* the file, when its descriptor is not offered (blobs.sendfile false) */
};

static ssize_t fs_read_at(struct blob_reader *r, uint64_t off, void *buf, size_t len)
{
	int fd = r->fd >= 0 ? r->fd : ((struct fs_reader *)r)->own_fd;
	if (fd < 0)
		return -ERR_IO; /* its descriptor was taken */
	for (;;) {
		ssize_t n = pread(fd, buf, len, (off_t)off);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -ERR_IO;
	}
}

static void fs_reader_close(struct blob_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (((struct fs_reader *)r)->own_fd >= 0)
		close(((struct fs_reader *)r)->own_fd);
	free(r);
}

static const struct blob_reader_ops fs_reader_ops = { fs_read_at, fs_reader_close };

int fs_open(struct blobstore *base, const char *sha, struct blob_reader **ret)
{
	struct fs_blobstore *b = (struct fs_blobstore *)base;
	char path[PATH_LEN];
	fs_blob_path(b, sha, path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ERR_NOT_FOUND : -ERR_IO;
	struct stat st;
	struct fs_reader *r = calloc(1, sizeof *r);
	if (!r || fstat(fd, &st) < 0) {
		free(r);
		close(fd);
		return r ? -ERR_IO : -ERR_NOMEM;
	}
	r->base = (struct blob_reader){ &fs_reader_ops, (uint64_t)st.st_size, -1, NULL };
	if (b->sendfile) { /* the descriptor is offered: the caller may send it itself */
		r->base.fd = fd;
		r->own_fd = -1;
	} else {
		r->own_fd = fd;
	}
	*ret = &r->base;
	return 0;
}

static void fill_stat(struct blob_stat *out, const char *sha, const struct stat *st)
{
	memcpy(out->sha256, sha, BLOB_HEX_LEN);
	out->sha256[BLOB_HEX_LEN] = '\0';
	out->size = (uint64_t)st->st_size;
	out->mtime_ms = (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

int fs_stat(struct blobstore *base, const char *sha, struct blob_stat *ret)
{
	struct fs_blobstore *b = (struct fs_blobstore *)base;
	char path[PATH_LEN];
	fs_blob_path(b, sha, path);
	struct stat st;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? -ERR_NOT_FOUND : -ERR_IO;
	fill_stat(ret, sha, &st);
	return 0;
}

static bool hex2(const char *s)
{
	return strlen(s) == 2 && strspn(s, "0123456789abcdef") == 2;
}

/* Calls cb for every blob-named file in dir (whose names start with prefix, if given). */
static int list_dir(const char *dir, const char *prefix,
		    int (*cb)(void *, const struct blob_stat *), void *arg)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -ERR_IO;
	struct dirent *e;
	int r = 0;
	while (r >= 0 && (e = readdir(d))) {
		if (!blob_name_valid(e->d_name) || (prefix && strncmp(e->d_name, prefix, 4) != 0))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		struct blob_stat bs;
		fill_stat(&bs, e->d_name, &st);
		r = cb(arg, &bs);
	}
	closedir(d);
	return r < 0 ? r : 0;
}

int fs_list(struct blobstore *base, int (*cb)(void *, const struct blob_stat *), void *arg)
{
	struct fs_blobstore *b = (struct fs_blobstore *)base;
	DIR *d1 = opendir(b->dir);
	if (!d1)
		return -ERR_IO;
	struct dirent *e1;
	int r = 0;
	while (r >= 0 && (e1 = readdir(d1))) {
		if (!hex2(e1->d_name))
			continue;
		char p1[PATH_LEN];
		snprintf(p1, sizeof p1, "%.4300s/%.2s", b->dir, e1->d_name);
		DIR *d2 = opendir(p1);
		if (!d2)
			continue;
		struct dirent *e2;
		while (r >= 0 && (e2 = readdir(d2))) {
			if (!hex2(e2->d_name))
				continue;
			char p2[PATH_LEN], prefix[5];
			snprintf(p2, sizeof p2, "%.4300s/%.2s", p1, e2->d_name);
			snprintf(prefix, sizeof prefix, "%.2s%.2s", e1->d_name, e2->d_name);
			r = list_dir(p2, prefix, cb, arg);
		}
		closedir(d2);
	}
	closedir(d1);
	return r < 0 ? r : 0;
}

/* --- collection --- */

int fs_delete(struct blobstore *base, const char *sha)
{
	struct fs_blobstore *b = (struct fs_blobstore *)base;
	char path[PATH_LEN], dir[PATH_LEN];
	fs_blob_path(b, sha, path);
	if (unlink(path) < 0)
		return errno == ENOENT ? -ERR_NOT_FOUND : -ERR_IO;
	fs_parent_of(path, dir);
	return fs_fsync_dir(dir) < 0 ? -ERR_IO : 0;
}

/* The trash of Cairn before schema 8, which hid a blob by moving it there while deciding:
 * whatever a crash left in it goes back under its name (a name that holds it already
 * wins), so nothing that was kept is lost; collection decides about it as about any
 * file. The emptied directory goes. */
void fs_return_old_trash(struct fs_blobstore *b)
{
	char dir[PATH_LEN];
	snprintf(dir, sizeof dir, "%.4200s/trash", b->dir);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!blob_name_valid(e->d_name))
			continue;
		char from[PATH_LEN], to[PATH_LEN], parent[PATH_LEN];
		snprintf(from, sizeof from, "%.4200s/%.64s", dir, e->d_name);
		fs_blob_path(b, e->d_name, to);
		if (fs_make_dirs(b, e->d_name) == 0 && (link(from, to) == 0 || errno == EEXIST)) {
			fs_parent_of(to, parent);
			if (fs_fsync_dir(parent) == 0)
				unlink(from);
			log_info("blobs: %s is back from the trash of an older cairn", e->d_name);
		}
	}
	closedir(d);
	rmdir(dir);
}

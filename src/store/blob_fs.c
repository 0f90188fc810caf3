/* The filesystem blob backend. Blobs live under DIR/ab/cd/<sha256>. An upload is written
 * to an unnamed file in DIR/tmp (O_TMPFILE: nothing is left behind however the upload
 * ends, even by a crash), or to a named one there on filesystems without O_TMPFILE. Once
 * verified and fsynced it is linked under its name and the directory is fsynced.
 * Collection deletes a blob's file once the metadata store has it marked (core/blobs.c). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "../util/config.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"
#include "../util/handoff.h"
#include "blob.h"
#include "blob_fs_int.h"

/* Writes are gathered into this much before they reach the file: an upload arrives in
 * pieces of a few KiB (the connection's buffer), and one write per piece costs. Full
 * buffers are written with O_DIRECT: on the machines measured (docs/benchmarks.md)
 * copying through the page cache and flushing it at fsync was 4x slower than writing
 * straight to the device, and a blob just uploaded is rarely read at once. Blobs smaller
 * than one buffer, and the tail of larger ones, go through the page cache.
 *
 * A full buffer is written by a worker of the upload's own ("cairn-blobw", started at
 * the first full buffer, so small blobs never start one) while the request's thread
 * hashes and fills the other buffer: receiving, hashing and writing overlap instead of
 * taking turns (issue 12, with core's hasher on a third thread: 256 MiB uploads went
 * from about 0.45x to 0.9-1.1x of the slower of `openssl dgst` and `dd oflag=direct`).
 * Two buffers per upload, whatever its size; one, and no thread, for a blob under a
 * buffer, or while util/handoff.h's cap on workers is reached. */
#define WRITE_BUF (1024 * 1024)
#define DIRECT_ALIGN 4096


struct blob_tmp {
	struct fs_blobstore *b;
	int fd;
	char name[PATH_LEN]; /* the named temporary file, or "" for O_TMPFILE */
	char *bufs[2];
	int cur;   /* the buffer being filled */
	size_t len; /* bytes in it */
	bool direct; /* O_DIRECT is on (changed only while the writer is idle) */
	bool no_direct; /* the filesystem refused it */
	struct handoff writer; /* full buffers, written by "cairn-blobw" */
};

void fs_blob_path(const struct fs_blobstore *b, const char *sha, char *out)
{
	snprintf(out, PATH_LEN, "%.4200s/%.2s/%.2s/%.64s", b->dir, sha, sha + 2, sha);
}

int fs_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -ERR_IO;
	int r = fsync(fd);
	close(fd);
	return r < 0 ? -ERR_IO : 0;
}

/* The parent directory of path (which must have a '/'), into out. */
void fs_parent_of(const char *path, char *out)
{
	snprintf(out, PATH_LEN, "%s", path);
	char *slash = strrchr(out, '/');
	if (slash)
		*slash = '\0';
}

/* Creates DIR/ab and DIR/ab/cd as needed; a new directory is made durable by fsyncing
 * its parent. */
int fs_make_dirs(const struct fs_blobstore *b, const char *sha)
{
	char p[PATH_LEN];
	snprintf(p, sizeof p, "%s/%.2s", b->dir, sha);
	for (int level = 0; level < 2; level++) {
		if (level == 1)
			snprintf(p, sizeof p, "%s/%.2s/%.2s", b->dir, sha, sha + 2);
		if (mkdir(p, 0700) == 0) {
			char parent[PATH_LEN];
			fs_parent_of(p, parent);
			if (fs_fsync_dir(parent) < 0)
				return -ERR_IO;
		} else if (errno != EEXIST) {
			return -ERR_IO;
		}
	}
	return 0;
}

static int fs_check(struct blobstore *base, uint64_t *ret_free_bytes, char *detail, size_t len)
{
	struct fs_blobstore *b = (struct fs_blobstore *)base;
	struct statvfs vfs;
	if (access(b->dir, W_OK | X_OK) < 0 || statvfs(b->dir, &vfs) < 0) {
		snprintf(detail, len, "blob directory not writable: %s", strerror(errno));
		return -ERR_IO;
	}
	*ret_free_bytes = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
	return 0;
}

static void fs_close(struct blobstore *base)
{
	struct fs_blobstore *b = (struct fs_blobstore *)base;
	if (!b)
		return;
	free(b->dir);
	free(b);
}

/* --- uploads --- */

/* An unnamed file in the tmp directory; -1 with errno when the filesystem has none. */
static int open_unnamed(const struct fs_blobstore *b)
{
	return open(b->tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/* A fresh name in the tmp directory: prefix and 24 random hex digits. */
static void tmp_name(const struct fs_blobstore *b, const char *prefix, char out[PATH_LEN])
{
	unsigned char rnd[12];
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		memset(rnd, 0, sizeof rnd);
	char hex[25];
	for (int i = 0; i < 12; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	snprintf(out, PATH_LEN, "%.4300s/%s%s", b->tmp, prefix, hex);
}

static int write_out(struct blob_tmp *t, const char *p, size_t len);
static int consume(void *arg, const char *p, size_t len)
{
	return write_out(arg, p, len);
}

static void tmp_release(struct blob_tmp *t)
{
	handoff_fini(&t->writer);
	free(t->bufs[0]);
	free(t->bufs[1]);
	free(t);
}

static int fs_tmp_open(struct blobstore *base, struct blob_tmp **ret)
{
	struct fs_blobstore *b = (struct fs_blobstore *)base;
	struct blob_tmp *t = calloc(1, sizeof *t);
	if (!t)
		return -ERR_NOMEM;
	if (posix_memalign((void **)&t->bufs[0], DIRECT_ALIGN, WRITE_BUF) != 0) {
		t->bufs[0] = NULL;
		tmp_release(t);
		return -ERR_NOMEM;
	}
	if (handoff_init(&t->writer, "cairn-blobw", consume, t) < 0) {
		tmp_release(t);
		return -ERR_NOMEM;
	}
	t->b = b;
	t->fd = open_unnamed(b);
	if (t->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		tmp_name(b, "up-", t->name);
		t->fd = open(t->name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	}
	if (t->fd < 0) {
		log_error("blobs: cannot create a temporary file in %s: %s", b->tmp, strerror(errno));
		t->name[0] = '\0';
		tmp_release(t);
		return -ERR_IO;
	}
	*ret = t;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Turns O_DIRECT on or off for the next writes. */
static void set_direct(struct blob_tmp *t, bool on)
{
	if (t->direct == on || (on && t->no_direct))
		return;
	int fl = fcntl(t->fd, F_GETFL);
	if (fl >= 0 && fcntl(t->fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) == 0)
		t->direct = on;
	else if (on)
		t->no_direct = true;
}

/* Writes len bytes of p: a full buffer (aligned, at an aligned offset) directly. Runs on
 * the writer, or on the request's thread while the writer is idle. */
static int write_out(struct blob_tmp *t, const char *p, size_t len)
{
	set_direct(t, len == WRITE_BUF);
	int r = write_all(t->fd, p, len);
	if (r < 0 && t->direct) {
		/* some filesystems accept the flag and refuse the write */
		set_direct(t, false);
		t->no_direct = true;
		r = write_all(t->fd, p, len);
	}
	return r;
}

/* Hands the full buffer to the writer and goes on filling the other one. The writer and
 * the second buffer come with the first full buffer, when a writer can be started
 * (util/handoff.h caps them); until then the buffer is written here. */
static int tmp_flush_full(struct blob_tmp *t)
{
	if (!t->bufs[1] && handoff_start(&t->writer) &&
	    posix_memalign((void **)&t->bufs[1], DIRECT_ALIGN, WRITE_BUF) != 0)
		t->bufs[1] = NULL;
	int r;
	if (!t->bufs[1]) {
		r = handoff_wait(&t->writer);
		if (r == 0)
			r = write_out(t, t->bufs[0], t->len);
	} else {
		r = handoff_give(&t->writer, t->bufs[t->cur], t->len);
		if (r == 1)
			t->cur ^= 1;
	}
	t->len = 0;
	return r < 0 ? r : 0;
}

static int fs_tmp_write(struct blob_tmp *t, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		size_t n = WRITE_BUF - t->len;
		if (n > len)
			n = len;
		memcpy(t->bufs[t->cur] + t->len, p, n);
		t->len += n;
		p += n;
		len -= n;
		if (t->len == WRITE_BUF && tmp_flush_full(t) < 0)
			return -ERR_IO;
	}
	return 0;
}

static int fs_tmp_sync(struct blob_tmp *t, bool lazy)
{
	if (handoff_wait(&t->writer) < 0)
		return -ERR_IO;
	if (t->len) {
		int r = write_out(t, t->bufs[t->cur], t->len);
		t->len = 0;
		if (r < 0)
			return -ERR_IO;
	}
	/* nothing is written after this: the buffers go (a batch holds many of these) */
	free(t->bufs[0]);
	free(t->bufs[1]);
	t->bufs[0] = t->bufs[1] = NULL;
	if (!lazy && fdatasync(t->fd) < 0)
		return -ERR_IO;
	return 0;
}

/* One syncfs for the filesystem of the blob directory: file data and directory entries
 * written before it are durable after it. */
static int fs_sync_all(struct blobstore *bs)
{
	struct fs_blobstore *b = (struct fs_blobstore *)bs;
	int fd = open(b->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -ERR_IO;
	int r = syncfs(fd);
	close(fd);
	return r < 0 ? -ERR_IO : 0;
}

/* An unnamed file can be linked once: after its name was taken away again (collection
 * raced with the upload, see core/blobs.c) the bytes go to a fresh unnamed file. */
static int relink_copy(struct blob_tmp *t)
{
	int fd = open_unnamed(t->b);
	struct stat st;
	if (fd < 0 || fstat(t->fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return -ERR_IO;
	}
	loff_t in = 0;
	while (in < st.st_size) {
		ssize_t n = copy_file_range(t->fd, &in, fd, NULL, (size_t)(st.st_size - in), 0);
		if (n <= 0) {
			close(fd);
			return -ERR_IO;
		}
	}
	if (fdatasync(fd) < 0) {
		close(fd);
		return -ERR_IO;
	}
	close(t->fd);
	t->fd = fd;
	return 0;
}

/* Gives the upload's bytes the name at (which must not exist). */
static int link_to(struct blob_tmp *t, const char *at)
{
	if (t->name[0])
		return link(t->name, at);
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", t->fd);
	int r = linkat(AT_FDCWD, self, AT_FDCWD, at, AT_SYMLINK_FOLLOW);
	if (r < 0 && errno == ENOENT && relink_copy(t) == 0) {
		snprintf(self, sizeof self, "/proc/self/fd/%d", t->fd);
		r = linkat(AT_FDCWD, self, AT_FDCWD, at, AT_SYMLINK_FOLLOW);
	}
	return r;
}

/* The verified bytes always take the name, replacing whatever file held it: a file that
 * was damaged on disk (cut short, altered) is repaired by uploading the blob again. The
 * bytes are linked under a second temporary name, then renamed over the blob's name in
 * one step, so a reader sees the old file or the new one, never none. */
static int fs_tmp_place(struct blob_tmp *t, const char *sha, bool lazy)
{
	char path[PATH_LEN], dir[PATH_LEN], staged[PATH_LEN];
	fs_blob_path(t->b, sha, path);
	if (fs_make_dirs(t->b, sha) < 0)
		return -ERR_IO;
	/* where no file holds the name (the usual case) the bytes are linked to it directly:
	 * no staged name, so a crash leaves nothing in tmp; otherwise staged and renamed
	 * over the old file */
	int r = link_to(t, path);
	if (r < 0 && errno == EEXIST) {
		tmp_name(t->b, "pl-", staged);
		r = link_to(t, staged);
		if (r == 0)
			r = rename(staged, path);
		int saved = errno;
		/* rename leaves both names when they are links of one file already */
		unlink(staged);
		errno = saved;
	}
	if (r < 0) {
		log_error("blobs: cannot place %s: %s", path, strerror(errno));
		return -ERR_IO;
	}
	if (lazy)
		return 0;
	fs_parent_of(path, dir);
	return fs_fsync_dir(dir);
}

static void fs_tmp_free(struct blob_tmp *t)
{
	if (!t)
		return;
	handoff_fini(&t->writer); /* before the file it writes to is closed */
	if (t->fd >= 0)
		close(t->fd);
	if (t->name[0])
		unlink(t->name);
	tmp_release(t);
}

static const struct blobstore_ops fs_ops = {
	.name = "fs",
	.check = fs_check,
	.close = fs_close,
	.tmp_open = fs_tmp_open,
	.tmp_write = fs_tmp_write,
	.tmp_sync = fs_tmp_sync,
	.tmp_place = fs_tmp_place,
	.sync_all = fs_sync_all,
	.tmp_free = fs_tmp_free,
	.open = fs_open,
	.stat = fs_stat,
	.list = fs_list,
	.delete = fs_delete,
};

static int mkdir_one(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -ERR_IO;
	}
	return 0;
}

/* Named temporary files left by a crash (uploads on filesystems without O_TMPFILE, and
 * second names of blobs being placed). A
 * running server's uploads are younger than its idle timeout allows to stall, so files
 * older than a day are leftovers. */
static void sweep_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	int64_t now_s = clock_wall_ms() / 1000; /* compared with files' mtimes: wall time */
	while ((e = readdir(d))) {
		struct stat st;
		if ((strncmp(e->d_name, "up-", 3) != 0 && strncmp(e->d_name, "pl-", 3) != 0) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (now_s - st.st_mtim.tv_sec > 86400)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int blobstore_fs_open(const char *dir, bool sendfile, struct blobstore **ret, char *err,
		      size_t errlen)
{
	char tmp[PATH_LEN];
	if (strlen(dir) > 4000) { /* paths below it are built with that much room */
		snprintf(err, errlen, "the blob directory's path is too long");
		return -ERR_INVALID;
	}
	int r = mkdir_one(dir, err, errlen);
	if (r < 0)
		return r;
	snprintf(tmp, sizeof tmp, "%s/tmp", dir);
	if ((r = mkdir_one(tmp, err, errlen)) < 0)
		return r;
	if (access(tmp, W_OK | X_OK) < 0) {
		snprintf(err, errlen, "cannot write to %s: %s", tmp, strerror(errno));
		return -ERR_IO;
	}
	sweep_tmp(tmp);
	struct fs_blobstore *b = calloc(1, sizeof *b);
	if (!b || !(b->dir = strdup(dir))) {
		free(b);
		return -ERR_NOMEM;
	}
	memcpy(b->tmp, tmp, sizeof b->tmp);
	b->base.ops = &fs_ops;
	b->sendfile = sendfile;
	fs_return_old_trash(b);
	*ret = &b->base;
	return 0;
}

int blobstore_open(const struct config *c, struct blobstore **ret, char *err, size_t errlen)
{
	if (strcmp(storage_cfg(c)->blobs, "fs") == 0) {
		char dir[PATH_LEN];
		snprintf(dir, sizeof dir, "%s/blobs", storage_cfg(c)->data_dir);
		return blobstore_fs_open(dir, blobs_cfg(c)->sendfile, ret, err, errlen);
	}
	snprintf(err, errlen, "unknown blob backend '%s'", storage_cfg(c)->blobs);
	return -ERR_INVALID;
}

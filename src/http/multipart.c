#include "multipart.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"

struct multipart {
	struct MHD_PostProcessor *pp;
	int (*sink)(void *arg, const void *data, size_t len);
	void *arg;
	int files;         /* "file" fields seen */
	uint64_t next_off; /* where the current one goes on */
	int err;           /* what stopped the parse */
	/* one other field kept (multipart_keep): its name, its value so far */
	const char *keep;
	char kept[MULTIPART_FIELD_MAX + 1];
	size_t kept_len;
	bool kept_seen, kept_long;
};

static const char malformed[] = "The multipart body is malformed.";
static const char one_file[] = "A multipart upload takes one field named file.";

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *filename, const char *content_type,
				const char *transfer_encoding, const char *data, uint64_t off,
				size_t size)
{
	(void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
	struct multipart *m = cls;
	if (key && m->keep && strcmp(key, m->keep) == 0) {
		if (off == 0 && m->kept_seen && m->kept_len > 0)
			m->kept_long = true; /* a second such field: none is taken */
		m->kept_seen = true;
		if (m->kept_len + size > MULTIPART_FIELD_MAX)
			m->kept_long = true;
		else {
			memcpy(m->kept + m->kept_len, data, size);
			m->kept_len += size;
			m->kept[m->kept_len] = '\0';
		}
		return MHD_YES;
	}
	if (!key || strcmp(key, "file") != 0)
		return MHD_YES; /* other fields are dropped */
	/* a field starts at offset 0; a second start after data is a second field */
	if (off == 0 && (m->files == 0 || m->next_off > 0) && ++m->files > 1) {
		m->err = -ERR_INVALID;
		return MHD_NO;
	}
	m->next_off = off + size;
	if (size && (m->err = m->sink(m->arg, data, size)) < 0)
		return MHD_NO;
	return MHD_YES;
}

struct multipart *multipart_new(struct req *r, int (*sink)(void *arg, const void *data, size_t len),
				void *arg)
{
	struct multipart *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->sink = sink;
	m->arg = arg;
	m->pp = MHD_create_post_processor(r->conn, 64 * 1024, on_field, m);
	if (!m->pp) {
		free(m);
		return NULL;
	}
	return m;
}

int multipart_feed(struct multipart *m, const char *data, size_t len, const char **ret_why)
{
	if (MHD_post_process(m->pp, data, len) == MHD_YES)
		return 0;
	if (m->err == -ERR_INVALID || m->err == 0) {
		*ret_why = m->err ? one_file : malformed;
		return -ERR_INVALID;
	}
	return m->err;
}

int multipart_end(struct multipart *m, const char **ret_why)
{
	/* the processor must have seen a complete message */
	bool complete = MHD_destroy_post_processor(m->pp) == MHD_YES;
	m->pp = NULL;
	if (!complete || m->files != 1) {
		*ret_why = !complete ? malformed : one_file;
		return -ERR_INVALID;
	}
	return 0;
}

struct multipart *multipart_free(struct multipart *m)
{
	if (m) {
		if (m->pp)
			MHD_destroy_post_processor(m->pp);
		free(m);
	}
	return NULL;
}

void multipart_keep(struct multipart *m, const char *name)
{
	m->keep = name;
}

const char *multipart_kept(const struct multipart *m)
{
	if (!m->kept_seen || m->kept_long || strlen(m->kept) != m->kept_len)
		return NULL;
	return m->kept;
}

/* HTTP for the reference client, by libcurl: see remote.h. */
#include "remote.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/buf.h"

struct remote {
	CURL *h;
	volatile sig_atomic_t *abort; /* a request in flight ends once it is set */
	char base[1024];
	char auth[1024];
	char err[CURL_ERROR_SIZE];
	int64_t requests, sent;
};

struct remote *remote_open(const char *base, const char *token)
{
	static int inited;
	if (!inited++ && curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return NULL;
	struct remote *r = calloc(1, sizeof *r);
	if (!r || !(r->h = curl_easy_init())) {
		free(r);
		return NULL;
	}
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	snprintf(r->base, sizeof r->base, "%.*s", (int)n, base);
	snprintf(r->auth, sizeof r->auth, "Authorization: Bearer %s", token);
	return r;
}

void remote_close(struct remote *r)
{
	if (!r)
		return;
	curl_easy_cleanup(r->h);
	explicit_bzero(r->auth, sizeof r->auth);
	free(r);
}

const char *remote_error(const struct remote *r)
{
	return r->err[0] ? r->err : "no answer from the server";
}

int64_t remote_requests(const struct remote *r)
{
	return r->requests;
}

int64_t remote_bytes_sent(const struct remote *r)
{
	return r->sent;
}

static size_t to_buf(char *p, size_t size, size_t n, void *arg)
{
	return buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

struct to_fd {
	int fd;
	long status;
	CURL *h;
	int failed;
};

static size_t to_fd(char *p, size_t size, size_t n, void *arg)
{
	struct to_fd *t = arg;
	if (!t->status)
		curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &t->status);
	if (t->status != 200)
		return size * n; /* an error's body: dropped */
	size_t len = size * n;
	while (len > 0) {
		ssize_t w = write(t->fd, p, len);
		if (w <= 0) {
			t->failed = 1;
			return 0;
		}
		p += w;
		len -= (size_t)w;
	}
	return size * n;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	struct remote *r = arg;
	return r->abort && *r->abort ? 1 : 0;
}

void remote_set_abort(struct remote *r, volatile sig_atomic_t *flag)
{
	r->abort = flag;
}

static void setup(struct remote *r, const char *method, const char *path, struct curl_slist *h)
{
	char url[8192];
	snprintf(url, sizeof url, "%s%s", r->base, path);
	curl_easy_reset(r->h);
	curl_easy_setopt(r->h, CURLOPT_URL, url);
	curl_easy_setopt(r->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(r->h, CURLOPT_ERRORBUFFER, r->err);
	curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a request making no progress for a minute is given up (a long-poll's own bound is
	 * below that) */
	curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_TIME, 120L);
	/* called about once a second even while nothing moves: a stop ends a long-poll */
	curl_easy_setopt(r->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(r->h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(r->h, CURLOPT_XFERINFODATA, r);
	r->err[0] = '\0';
	r->requests++;
}

int remote_call(struct remote *r, const char *method, const char *path, const void *body,
		size_t len, const char *ctype, long *status, json_object **out)
{
	struct curl_slist *h = curl_slist_append(NULL, r->auth);
	char ct[128];
	if (body) {
		snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/octet-stream");
		h = curl_slist_append(h, ct);
		h = curl_slist_append(h, "Expect:");
	}
	setup(r, method, path, h);
	if (body) {
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		r->sent += (int64_t)len;
	}
	struct buf b;
	buf_init(&b, (size_t)1 << 30);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, to_buf);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, &b);
	CURLcode cr = curl_easy_perform(r->h);
	curl_slist_free_all(h);
	*status = 0;
	if (out)
		*out = NULL;
	if (cr != CURLE_OK) {
		if (!r->err[0])
			snprintf(r->err, sizeof r->err, "%s", curl_easy_strerror(cr));
		buf_free(&b);
		return -1;
	}
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, status);
	char *rct = NULL;
	curl_easy_getinfo(r->h, CURLINFO_CONTENT_TYPE, &rct);
	if (out && b.len && rct && !strncmp(rct, "application/json", 16))
		*out = json_tokener_parse(buf_str(&b));
	buf_free(&b);
	return 0;
}

int remote_json(struct remote *r, const char *method, const char *path, json_object *body,
		long *status, json_object **out)
{
	size_t len = 0;
	const char *text = body ? json_object_to_json_string_length(
					  body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
					  &len)
				: NULL;
	return remote_call(r, method, path, text, len, "application/json", status, out);
}

int remote_fetch(struct remote *r, const char *path, int fd, long *status)
{
	struct curl_slist *h = curl_slist_append(NULL, r->auth);
	setup(r, "GET", path, h);
	struct to_fd t = { .fd = fd, .h = r->h };
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, to_fd);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, &t);
	CURLcode cr = curl_easy_perform(r->h);
	curl_slist_free_all(h);
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, status);
	if (cr != CURLE_OK || t.failed) {
		if (!r->err[0])
			snprintf(r->err, sizeof r->err, "%s",
				 t.failed ? "cannot write the file" : curl_easy_strerror(cr));
		return -1;
	}
	return 0;
}

int remote_escape_path(const char *path, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t at = strlen(out);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || strchr("-._~/", *p);
		if (at + (plain ? 1 : 3) + 1 > cap)
			return -1;
		if (plain) {
			out[at++] = (char)*p;
		} else {
			out[at++] = '%';
			out[at++] = hex[*p >> 4];
			out[at++] = hex[*p & 15];
		}
	}
	out[at] = '\0';
	return 0;
}

/* What the model's records need, whatever the backend: freeing what a backend
 * allocated into them, and blob names. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

void record_clear(struct record *r)
{
	free(r->data);
	memset(r, 0, sizeof *r);
}

void mail_clear(struct mail *m)
{
	free(m->to);
	free(m->subject);
	free(m->body);
	memset(m, 0, sizeof *m);
}

bool blob_name_valid(const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (i >= BLOB_HEX_LEN || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == BLOB_HEX_LEN;
}

bool blob_name_norm(const char *s, char out[BLOB_HEX_LEN + 1])
{
	if (!s || strlen(s) != BLOB_HEX_LEN)
		return false;
	for (int i = 0; i <= BLOB_HEX_LEN; i++)
		out[i] = (char)((s[i] >= 'A' && s[i] <= 'F') ? s[i] + 32 : s[i]);
	return blob_name_valid(out);
}

void login_key(const char *in, char *out, size_t len)
{
	size_t i = 0;
	for (; in[i] && i + 1 < len; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 32) : in[i];
	out[i] = '\0';
}

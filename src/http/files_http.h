/* What the files handlers (h_files.c, h_content.c) share. */
#ifndef CAIRN_FILES_HTTP_H
#define CAIRN_FILES_HTTP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "../core/files/files.h"

struct req;

/* The path in the parameter param (raw NULL) or in raw, normalised into out; false after
 * replying 400 bad_path naming the rule. */
bool file_path_or_reply(struct req *r, const char *param, const char *raw,
			char out[FPATH_MAX + 1]);
/* A manifest's JSON object with "version" and "updated_at" added. */
json_object *file_json(const char *text, int64_t version, int64_t updated_ms);
int reply_file_conflict(struct req *r, const struct file_result *fr);
int reply_file_written(struct req *r, const char *asked, const struct file_result *fr);

#endif

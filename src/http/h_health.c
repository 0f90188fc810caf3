/* GET /health, GET /api/v1/health, GET /api/v1/limits. */
#include <stdint.h>

#include "../core/blobs.h"
#include "../store/blob.h"
#include "../store/store.h"
#include "../util/clock.h"
#include "../util/config.h"
#include "../util/version.h"
#include "../core/files/files.h"
#include "app.h"
#include "handlers.h"
#include "server.h"

int h_health_live(struct req *r)
{
	static const char body[] = "{\"status\":\"ok\"}";
	return http_reply_bytes(r, 200, "application/json", body, sizeof body - 1);
}

int h_health(struct req *r)
{
	struct app *app = r->app;
	char detail[160];
	int version = 0;
	bool db_ok = app->core->store->ops->check(app->core->store, detail, sizeof detail) == 0 &&
		     app->core->store->ops->schema_version(app->core->store, &version) == 0;
	uint64_t free_bytes = 0;
	char bdetail[160];
	bool blobs_ok = app->core->blobs->ops->check(app->core->blobs, &free_bytes, bdetail, sizeof bdetail) == 0;
	bool ok = db_ok && blobs_ok;

	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(ok ? "ok" : "degraded"));
	json_object_object_add(o, "version", json_object_new_string(cairn_version()));
	json_object_object_add(o, "commit", json_object_new_string(cairn_commit()));
	json_object_object_add(o, "uptime_s",
			       json_object_new_int64((clock_wall_ms() - app->started_ms) / 1000));
	json_object *db = json_object_new_object();
	json_object_object_add(db, "backend", json_object_new_string(app->core->store->ops->name));
	json_object_object_add(db, "ok", json_object_new_boolean(db_ok));
	if (db_ok)
		json_object_object_add(db, "schema_version", json_object_new_int(version));
	json_object_object_add(o, "database", db);
	json_object *bl = json_object_new_object();
	json_object_object_add(bl, "backend", json_object_new_string(app->core->blobs->ops->name));
	json_object_object_add(bl, "ok", json_object_new_boolean(blobs_ok));
	json_object_object_add(bl, "free_bytes", json_object_new_int64(blobs_ok ? (int64_t)free_bytes : 0));
	json_object_object_add(o, "blobs", bl);
	if (!db_ok)
		log_req(LOG_WARN, r->id, "health: database not ok: %s", detail);
	if (!blobs_ok)
		log_req(LOG_WARN, r->id, "health: blob store not ok: %s", bdetail);
	return http_reply_json(r, ok ? 200 : 503, o);
}

/* Every limit a client must respect, by the name of its key (limits.*, and the blob and
 * body-rate limits under the names in docs/api.md). */
int h_limits(struct req *r)
{
	const struct config *c = ((struct app *)r->app)->cfg;
	struct manifest_limits fl = files_limits(c);
	const struct {
		const char *name;
		int64_t v;
	} lim[] = {
		{ "header_bytes", limits_cfg(c)->header_bytes },
		{ "json_body_bytes", limits_cfg(c)->json_body_bytes },
		{ "auth_body_bytes", limits_cfg(c)->auth_body_bytes },
		{ "json_depth", limits_cfg(c)->json_depth },
		{ "json_values", limits_cfg(c)->json_values },
		{ "push_changes", limits_cfg(c)->push_changes },
		{ "push_blob_refs", limits_cfg(c)->push_blob_refs },
		{ "push_stored_bytes", limits_cfg(c)->push_stored_bytes },
		{ "blobs_per_change", BLOBS_PER_CHANGE },
		{ "record_bytes", limits_cfg(c)->record_bytes },
		{ "page", limits_cfg(c)->page },
		{ "wait_s", limits_cfg(c)->wait_ms / 1000 },
		{ "blob_max_bytes", blobs_cfg(c)->max_size },
		{ "body_min_rate", server_cfg(c)->body_min_rate },
		{ "body_grace_s", server_cfg(c)->body_grace_ms / 1000 },
		{ "max_connections_per_address", server_cfg(c)->max_connections_per_address },
		{ "file_chunk_min", files_cfg(c)->chunk_min },
		{ "file_chunk_avg", files_cfg(c)->chunk_avg },
		{ "file_chunk_max", files_cfg(c)->chunk_max },
		{ "file_max_chunks", files_cfg(c)->max_chunks },
		{ "file_manifest_bytes", manifest_max_bytes(&fl) },
		{ "file_max_move", files_cfg(c)->max_move },
		{ "batch_bytes", files_cfg(c)->batch_bytes },
		{ "batch_blobs", files_cfg(c)->batch_blobs },
	};
	json_object *o = json_object_new_object();
	for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++)
		json_object_object_add(o, lim[i].name, json_object_new_int64(lim[i].v));
	return http_reply_json(r, 200, o);
}

/* The native API's route table. docs/api.md lists every route here. */
#include "app.h"
#include "handlers.h"
#include "router.h"

const struct route app_routes[] = {
	{ HM_GET, "/health", h_health_live, BODY_NONE, NULL, NULL, ROUTE_PUBLIC },
	{ HM_GET, "/api/v1/health", h_health, BODY_NONE, NULL, NULL, ROUTE_PUBLIC },
	{ HM_GET, "/api/v1/limits", h_limits, BODY_NONE, NULL, NULL, ROUTE_PUBLIC },

	{ HM_POST, "/api/v1/auth/register", h_register, BODY_JSON, NULL, NULL, ROUTE_CREDENTIALS | ROUTE_PUBLIC },
	{ HM_POST, "/api/v1/auth/login", h_login, BODY_JSON, NULL, NULL, ROUTE_CREDENTIALS | ROUTE_PUBLIC },
	{ HM_POST, "/api/v1/auth/refresh", h_refresh, BODY_JSON, NULL, NULL, ROUTE_CREDENTIALS | ROUTE_PUBLIC },
	{ HM_POST, "/api/v1/auth/logout", h_logout, BODY_JSON, NULL, NULL, ROUTE_CREDENTIALS },
	{ HM_GET | HM_POST, "/api/v1/auth/confirm", h_confirm, BODY_JSON, NULL, NULL, ROUTE_CREDENTIALS | ROUTE_PUBLIC },
	{ HM_POST, "/api/v1/auth/forgot", h_forgot, BODY_JSON, NULL, NULL, ROUTE_CREDENTIALS | ROUTE_PUBLIC },
	{ HM_GET | HM_POST, "/api/v1/auth/reset", h_reset, BODY_JSON, NULL, NULL, ROUTE_CREDENTIALS | ROUTE_PUBLIC | ROUTE_FORM },

	{ HM_GET, "/api/v1/account", h_account_get, BODY_NONE, NULL, NULL, 0 },
	{ HM_DELETE, "/api/v1/account", h_account_delete, BODY_JSON, NULL, NULL, ROUTE_CREDENTIALS },
	{ HM_POST, "/api/v1/account/password", h_account_password, BODY_JSON, NULL, NULL, ROUTE_CREDENTIALS },
	{ HM_PUT, "/api/v1/account/public-key", h_public_key_put, BODY_JSON, NULL, NULL, 0 },
	{ HM_GET, "/api/v1/users/{username}/public-key", h_public_key_get, BODY_NONE, NULL, NULL, 0 },
	{ HM_GET, "/api/v1/devices", h_devices_list, BODY_NONE, NULL, NULL, 0 },
	{ HM_PATCH, "/api/v1/devices/{id}", h_device_patch, BODY_JSON, NULL, NULL, 0 },
	{ HM_DELETE, "/api/v1/devices/{id}", h_device_delete, BODY_JSON, NULL, NULL, 0 },
	{ HM_POST, "/api/v1/tokens", h_tokens_create, BODY_JSON, NULL, NULL, 0 },

	{ HM_GET, "/api/v1/events", h_events, BODY_NONE, NULL, NULL, 0 },
	{ HM_GET, "/api/v1/spaces", h_spaces_list, BODY_NONE, NULL, NULL, 0 },
	{ HM_POST, "/api/v1/spaces", h_spaces_create, BODY_JSON, NULL, NULL, 0 },
	{ HM_GET, "/api/v1/spaces/{space}", h_space_get, BODY_NONE, NULL, NULL, ROUTE_SPACE_READ },
	{ HM_PATCH, "/api/v1/spaces/{space}", h_space_patch, BODY_JSON, NULL, NULL, ROUTE_SPACE_MANAGE },
	{ HM_DELETE, "/api/v1/spaces/{space}", h_space_delete, BODY_JSON, NULL, NULL, ROUTE_SPACE_MANAGE },
	{ HM_GET, "/api/v1/spaces/{space}/members", h_members_list, BODY_NONE, NULL, NULL, ROUTE_SPACE_READ },
	{ HM_POST, "/api/v1/spaces/{space}/members", h_members_add, BODY_JSON, NULL, NULL, ROUTE_SPACE_MANAGE },
	{ HM_PATCH, "/api/v1/spaces/{space}/members/{username}", h_member_patch, BODY_JSON, NULL, NULL, ROUTE_SPACE_MANAGE },
	{ HM_DELETE, "/api/v1/spaces/{space}/members/{username}", h_member_delete, BODY_JSON, NULL, NULL, ROUTE_SPACE_READ },
	{ HM_PUT, "/api/v1/spaces/{space}/collections/{name}", h_collection_put, BODY_JSON, NULL, NULL, ROUTE_SPACE_MANAGE },
	{ HM_PUT, "/api/v1/spaces/{space}/keys", h_keys_put, BODY_JSON, NULL, NULL, ROUTE_SPACE_MANAGE },
	{ HM_GET, "/api/v1/spaces/{space}/keys", h_keys_get, BODY_NONE, NULL, NULL, ROUTE_SPACE_READ },
	{ HM_POST, "/api/v1/spaces/{space}/changes", h_changes_push, BODY_JSON, NULL, NULL, ROUTE_SPACE_WRITE },
	{ HM_GET, "/api/v1/spaces/{space}/changes", h_changes_pull, BODY_NONE, NULL, NULL, ROUTE_SPACE_READ | ROUTE_GZIP },
	{ HM_GET, "/api/v1/spaces/{space}/records", h_records_list, BODY_NONE, NULL, NULL, ROUTE_SPACE_READ | ROUTE_GZIP },
	{ HM_GET, "/api/v1/spaces/{space}/records/{collection}/{id}", h_record_get, BODY_NONE, NULL, NULL, ROUTE_SPACE_READ },
	{ HM_PUT, "/api/v1/spaces/{space}/records/{collection}/{id}", h_record_put, BODY_JSON, NULL, NULL, ROUTE_SPACE_WRITE },
	{ HM_DELETE, "/api/v1/spaces/{space}/records/{collection}/{id}", h_record_delete, BODY_JSON, NULL, NULL, ROUTE_SPACE_WRITE },
	{ HM_GET, "/api/v1/spaces/{space}/records/{collection}/{id}/history", h_record_history, BODY_NONE, NULL, NULL, ROUTE_SPACE_READ },

	{ HM_POST, "/api/v1/blobs/missing", h_blobs_missing, BODY_JSON, NULL, NULL, 0 },
	{ HM_PUT, "/api/v1/blobs/{sha256}", h_blob_put, BODY_STREAM, h_blob_put_begin, h_blob_chunk, 0 },
	{ HM_POST, "/api/v1/blobs", h_blob_post, BODY_STREAM, h_blob_post_begin, h_blob_chunk, 0 },
	{ HM_GET, "/api/v1/blobs", h_blobs_list, BODY_NONE, NULL, NULL, 0 },
	{ HM_GET, "/api/v1/blobs/{sha256}", h_blob_get, BODY_NONE, NULL, NULL, 0 },
	{ HM_DELETE, "/api/v1/blobs/{sha256}", h_blob_delete, BODY_NONE, NULL, NULL, 0 },

	{ HM_GET, "/api/v1/admin/users", h_admin_users_list, BODY_NONE, NULL, NULL, ROUTE_ADMIN },
	{ HM_POST, "/api/v1/admin/users", h_admin_users_create, BODY_JSON, NULL, NULL, ROUTE_ADMIN },
	{ HM_GET, "/api/v1/admin/users/{id}", h_admin_user_get, BODY_NONE, NULL, NULL, ROUTE_ADMIN },
	{ HM_PATCH, "/api/v1/admin/users/{id}", h_admin_user_patch, BODY_JSON, NULL, NULL, ROUTE_ADMIN },
	{ HM_DELETE, "/api/v1/admin/users/{id}", h_admin_user_delete, BODY_JSON, NULL, NULL, ROUTE_ADMIN },
	{ HM_GET, "/api/v1/admin/realms", h_admin_realms_list, BODY_NONE, NULL, NULL, ROUTE_ADMIN },
	{ HM_POST, "/api/v1/admin/realms", h_admin_realms_create, BODY_JSON, NULL, NULL, ROUTE_ADMIN },
	{ HM_PATCH, "/api/v1/admin/realms/{name}", h_admin_realm_patch, BODY_JSON, NULL, NULL, ROUTE_ADMIN },
	{ HM_GET, "/api/v1/admin/stats", h_admin_stats, BODY_NONE, NULL, NULL, ROUTE_ADMIN },
};

const size_t app_routes_count = sizeof app_routes / sizeof app_routes[0];

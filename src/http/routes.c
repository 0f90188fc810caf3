/* The native API's route table. docs/api.md lists every route here. */
#include "app.h"
#include "handlers.h"
#include "router.h"

const struct route app_routes[] = {
	{ HM_GET, "/health", h_health_live, BODY_NONE, NULL, NULL },
	{ HM_GET, "/api/v1/health", h_health, BODY_NONE, NULL, NULL },
	{ HM_GET, "/api/v1/limits", h_limits, BODY_NONE, NULL, NULL },
};

const size_t app_routes_count = sizeof app_routes / sizeof app_routes[0];

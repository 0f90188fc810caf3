/* The compat adapters' clients (store.h, client_*): a protocol's own id for an install,
 * each a device of its user, with the protocol's pull-before-push lock. */
#include "../store/store.h"
#include "../util/clock.h"
#include "sync.h"

int sync_client_add(struct core *c, const char *app, const struct app_client *cl)
{
	return c->store->ops->spaces->client_add(c->store, app, cl);
}

int sync_client_get(struct core *c, const char *app, int64_t realm_id, const char *client_id,
		    struct app_client *ret)
{
	return c->store->ops->spaces->client_get(c->store, app, realm_id, client_id, ret);
}

int sync_client_lock(struct core *c, const char *app, int64_t realm_id, const char *client_id,
		     const struct space *sp, int64_t stale_ms, struct app_client *ret)
{
	return c->store->ops->spaces->client_lock(c->store, app, realm_id, client_id, sp->id,
						  clock_wall_ms(), stale_ms, ret);
}

int sync_client_cursor(struct core *c, const char *app, int64_t realm_id, const char *client_id,
		       int64_t seq)
{
	return c->store->ops->spaces->client_cursor(c->store, app, realm_id, client_id, seq);
}

int sync_client_unlock_in(struct core *c, void *txn, const char *app, int64_t realm_id,
			  const char *client_id)
{
	return c->store->ops->push->push_client_unlock(txn, app, realm_id, client_id);
}

int sync_client_unlock(struct core *c, const char *app, int64_t realm_id, const char *client_id)
{
	return c->store->ops->spaces->client_unlock(c->store, app, realm_id, client_id);
}

int sync_client_delete(struct core *c, const char *app, int64_t realm_id, const char *client_id)
{
	return c->store->ops->spaces->client_delete(c->store, app, realm_id, client_id);
}

int sync_client_by_device(struct core *c, int64_t device_id, struct app_client *ret)
{
	return c->store->ops->spaces->client_by_device(c->store, device_id, ret);
}

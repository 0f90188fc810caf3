/* The sequence numbers a desktop sees in a vault imported from Verstak Sync (verstak.h,
 * VK_IMPORT_RECORD): Verstak's own for the imported ops, and later ones following them;
 * a desktop's number translated back to the space's seq. */
#include <string.h>

#include "../../../core/errors.h"
#include "../../../core/sync.h"
#include "../../helpers.h"
#include "verstak.h"


int vk_seqmap_load(struct req *r, const struct vk_device *d, struct vk_seqmap *m)
{
	memset(m, 0, sizeof *m);
	struct record rec = { 0 };
	int e = sync_record_get(core_of(r), &d->p, &d->sp, VK_IMPORT_COLLECTION, VK_IMPORT_RECORD,
				&rec);
	if (e == -ERR_NOT_FOUND)
		return 0;
	if (e < 0)
		return e;
	json_object *o = rec.data ? json_tokener_parse(rec.data) : NULL, *v;
	record_clear(&rec);
	if (json_object_object_get_ex(o, "first_seq", &v))
		m->first = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "last_seq", &v))
		m->last = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "last_verstak_seq", &v))
		m->shown_last = json_object_get_int64(v);
	json_object_put(o);
	/* a map the import wrote: its ops in the space, numbers a desktop can hold (below
	 * 2^53, as the importer keeps them); anything else (a native write) is no map */
	m->on = m->first > 0 && m->last >= m->first && m->last < d->sp.head_seq + 1 &&
		m->shown_last >= m->last && m->shown_last < VK_SEQ_MAX;
	return 0;
}

int64_t vk_seq_shown(const struct vk_seqmap *m, int64_t seq, json_object *o)
{
	if (!m->on)
		return seq;
	json_object *v;
	if (seq >= m->first && seq <= m->last && json_object_object_get_ex(o, "verstak_seq", &v))
		return json_object_get_int64(v);
	/* last + 1 is the map itself, written right after the ops: it takes no number of its
	 * own, so the vault's head is the last op's until something new comes */
	if (seq == m->last + 1)
		return m->shown_last;
	return seq > m->last ? seq - (m->last + 1) + m->shown_last : seq;
}

struct one_change {
	int64_t want, got;
};

static int read_one(void *arg, const struct change_row *ch)
{
	struct one_change *x = arg;
	if (ch->seq != x->want || !ch->data)
		return -1;
	json_object *o = json_tokener_parse(ch->data), *v;
	if (json_object_object_get_ex(o, "verstak_seq", &v))
		x->got = json_object_get_int64(v);
	json_object_put(o);
	return -1;
}

/* The space's seq for a number shown to a desktop: the last change it has seen. */
int vk_seq_internal(struct req *r, const struct vk_device *d, const struct vk_seqmap *m,
			int64_t shown, int64_t *ret)
{
	if (!m->on || shown <= 0) {
		*ret = shown;
		return 0;
	}
	if (shown >= m->shown_last) {
		int64_t past = shown - m->shown_last; /* both >= 0: no overflow */
		*ret = past > VK_SEQ_MAX ? VK_SEQ_MAX : past + m->last + 1;
		return 0;
	}
	/* the last imported op whose Verstak sequence is at most shown, by bisection */
	int64_t lo = m->first, hi = m->last, best = m->first - 1;
	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2, head = 0;
		struct one_change x = { .want = mid, .got = -1 };
		struct pull_at at = { .since = mid - 1, .limit = 1, .append_only = true,
				      .peek = true };
		struct verr ve = { 0 };
		int e = sync_pull_page(core_of(r), &d->p, &d->sp, &at, read_one, &x, &head, &ve);
		if (e < 0 && e != -ERR_CURSOR_EXPIRED)
			return e;
		if (x.got < 0) /* not an imported op: the map is not this space's any more */
			break;
		if (x.got <= shown) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	*ret = best;
	return 0;
}

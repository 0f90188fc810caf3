/* Direct messages on spaces (docs/api.md, Messages; docs/architecture.md, Messages): a
 * conversation is a space of kind direct, a message a record of its "messages" collection
 * with a server-wide message_id, sent in one transaction with its conversation rows.
 * Errors as in sync.h, and -ERR_BLOCKED. Any thread. */
#ifndef CAIRN_MESSAGES_H
#define CAIRN_MESSAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "../../util/config.h"
#include "../core.h"
#include "../sync.h"

#define MESSAGES_COLLECTION "messages"

/* The [messages] section. */
struct messages_config {
	int64_t max_text_bytes;
};
CONFIG_SECTION_DECL(messages);

struct message_sent {
	int64_t message_id;
	int64_t space_id;
	int64_t seq;
	int64_t sent_ms;
};

/* Sends text from p to the user called to (p's realm; p itself for notes to oneself),
 * creating their conversation on first use, with blobs (a JSON array of hashes, or NULL)
 * as attachments: the message names them as a change does, so the other member may read
 * them, and p must be able to read each. -ERR_NOT_FOUND (no such user), -ERR_INVALID
 * (empty text, bad blobs; ve says), -ERR_TOO_LARGE (over messages.max_text_bytes; ve
 * says), -ERR_BLOB_MISSING, -ERR_BLOCKED (the recipient blocks p: nothing stored, no
 * conversation made). */
int messages_send(struct core *c, const struct principal *p, const char *to, const char *text,
		  json_object *blobs, struct message_sent *ret, struct verr *ve);

/* One conversation as listed: the row, the other user's name, and the newest message's
 * data (JSON text, NULL before the first; borrowed for the callback). */
struct conversation_view {
	struct conversation c;
	const char *with;
	const char *last_data;
};
/* p's conversations, newest activity first, after the cursor (before_ms, before_space:
 * INT64_MAX and 0 to start), at most limit. */
int messages_conversations(struct core *c, const struct principal *p, int64_t before_ms,
			   int64_t before_space, int limit,
			   int (*cb)(void *arg, const struct conversation_view *v), void *arg);
/* A page of the conversation sp (p a member): after since in order (since >= 0), or before
 * `before` newest first, at most limit. -ERR_NOT_FOUND when sp is not a conversation. */
int messages_page(struct core *c, const struct principal *p, const struct space *sp,
		  int64_t since, int64_t before, int limit,
		  int (*cb)(void *arg, const struct message_row *m), void *arg);
/* Deletes p's own message (a tombstone in the log; unread counts follow).
 * -ERR_NOT_FOUND when sp holds no such message of p's. */
int messages_delete(struct core *c, const struct principal *p, const struct space *sp,
		    int64_t message_id);
/* Moves p's read cursor in the conversation up to seq; -ERR_NOT_FOUND when it is not p's. */
int messages_read(struct core *c, const struct principal *p, int64_t space_id, int64_t seq,
		  struct conversation *ret);

/* p blocks (on) or unblocks the user called username: -ERR_NOT_FOUND for no such user,
 * or (unblocking) one p does not block; -ERR_INVALID for oneself. */
int messages_block(struct core *c, const struct principal *p, const char *username, bool on);
/* The users p blocks, in id order, with since when. */
int messages_blocks(struct core *c, const struct principal *p,
		    int (*cb)(void *arg, const char *username, int64_t since_ms), void *arg);

/* p's newest messages across their conversations, or with the user called with_user
 * only (not NULL), newest first, deleted ones left out, at most limit: for protocols
 * that list messages without a cursor (MigChat). text is the message's (NULL if its
 * record is gone); from and to name the users as they are called now ("" for an account
 * deleted since). -ERR_NOT_FOUND when with_user names nobody. */
struct message_view {
	int64_t message_id, space_id, seq, sent_ms;
	const char *from, *to, *text;
};
int messages_recent(struct core *c, const struct principal *p, const char *with_user, int limit,
		    int (*cb)(void *arg, const struct message_view *v), void *arg);
/* Marks everything the user called with_user sent p as read (p's read cursor of their
 * conversation to its newest message); *ret_marked is how many were unread. 0 marked
 * when they have no conversation; -ERR_NOT_FOUND when with_user names nobody. */
int messages_read_with(struct core *c, const struct principal *p, const char *with_user,
		       int64_t *ret_marked);

/* End-to-end key bundles (keys.c): each user publishes one, with one-time prekeys that
 * others take one at a time. Strings are opaque text (no NUL, at most KEY_TEXT_MAX bytes;
 * the three keys not empty); at most KEYS_MAX_PREKEYS prekeys. */
#define KEYS_MAX_PREKEYS 1000
/* One-time prekeys one user may take of another's per minute (keys_fetch). */
#define KEYS_PREKEYS_PER_MINUTE 1
/* Replaces p's bundle and all their prekeys. -ERR_INVALID with the field in ve,
 * -ERR_TOO_LARGE (too many prekeys, or one too long; ve's detail says). */
int keys_upload(struct core *c, const struct principal *p, const struct key_bundle *kb,
		const char *const *prekeys, int n, struct verr *ve);
/* The bundle of the user called username (p's realm) and one of their prekeys, which no
 * later fetch is given (*ret_has_prekey false when none is left, or when p took one of
 * that user's within the minute: KEYS_PREKEYS_PER_MINUTE). -ERR_NOT_FOUND: no such user
 * (*ret_no_user true) or no bundle; -ERR_BLOCKED: that user blocks p. */
int keys_fetch(struct core *c, const struct principal *p, const char *username,
	       struct key_bundle *ret, char prekey[KEY_TEXT_MAX + 1], bool *ret_has_prekey,
	       bool *ret_no_user);

#endif

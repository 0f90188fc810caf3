/* Handlers of the native API, one file per resource. */
#ifndef CAIRN_HANDLERS_H
#define CAIRN_HANDLERS_H

#include "../util/log.h"

struct req;

/* h_health.c */
int h_health_live(struct req *r);
int h_health(struct req *r);
int h_limits(struct req *r);

/* h_auth.c */
int h_register(struct req *r);
int h_login(struct req *r);
int h_refresh(struct req *r);
int h_logout(struct req *r);
int h_confirm(struct req *r);
int h_forgot(struct req *r);
int h_reset(struct req *r);

/* h_account.c */
int h_account_get(struct req *r);
int h_account_password(struct req *r);
int h_account_delete(struct req *r);
int h_public_key_put(struct req *r);
int h_public_key_get(struct req *r);
int h_devices_list(struct req *r);
int h_device_patch(struct req *r);
int h_device_delete(struct req *r);
int h_tokens_create(struct req *r);

/* h_admin.c */
int h_admin_users_list(struct req *r);
int h_admin_users_create(struct req *r);
int h_admin_user_get(struct req *r);
int h_admin_user_patch(struct req *r);
int h_admin_user_delete(struct req *r);
int h_admin_realms_list(struct req *r);
int h_admin_realms_create(struct req *r);
int h_admin_realm_patch(struct req *r);
int h_admin_stats(struct req *r);

/* h_events.c */
int h_events(struct req *r);

/* h_sync.c */
int h_spaces_list(struct req *r);
int h_spaces_create(struct req *r);
int h_space_get(struct req *r);
int h_space_patch(struct req *r);
int h_space_delete(struct req *r);
int h_members_list(struct req *r);
int h_members_add(struct req *r);
int h_member_patch(struct req *r);
int h_member_delete(struct req *r);
int h_collection_put(struct req *r);
int h_keys_put(struct req *r);
int h_keys_get(struct req *r);
int h_changes_push(struct req *r);
int h_changes_pull(struct req *r);
int h_records_list(struct req *r);
int h_record_get(struct req *r);
int h_record_put(struct req *r);
int h_record_delete(struct req *r);
int h_record_history(struct req *r);

/* h_blobs.c */
int h_blob_put_begin(struct req *r);
int h_blob_post_begin(struct req *r);
int h_blob_chunk(struct req *r, const char *data, size_t len);
int h_blob_put(struct req *r);
int h_blob_post(struct req *r);
int h_blob_get(struct req *r);
int h_blobs_missing(struct req *r);
int h_blobs_list(struct req *r);
int h_blob_delete(struct req *r);
int h_blobs_batch_begin(struct req *r);
int h_blobs_batch_chunk(struct req *r, const char *data, size_t len);
int h_blobs_batch(struct req *r);

/* h_files.c */
int h_file_put(struct req *r);
int h_file_get(struct req *r);
int h_file_delete(struct req *r);
int h_files_list(struct req *r);
int h_trash_list(struct req *r);
int h_file_versions(struct req *r);
int h_file_restore(struct req *r);
int h_file_moves(struct req *r);

/* h_messages.c */
int h_messages_send(struct req *r);
int h_conversations_list(struct req *r);
int h_conversation_read(struct req *r);
int h_conversation_messages(struct req *r);
int h_message_delete(struct req *r);
int h_blocks_add(struct req *r);
int h_blocks_delete(struct req *r);
int h_blocks_list(struct req *r);

/* h_content.c */
int h_content_get(struct req *r);
int h_content_put_begin(struct req *r);
int h_content_put_chunk(struct req *r, const char *data, size_t len);
int h_content_put(struct req *r);

#endif

/*
 * The status of alerts as JSON, read from the store: what
 * GET /api/v1/alerts[/ID] answers and `pocalert status` prints.
 */
#ifndef POCALERT_STATUS_H
#define POCALERT_STATUS_H

#include <jansson.h>

#include "dispatcher/store/store.h"

/*
 * {"id","title","type","severity","tlp","drill","state","created_at",
 * "counts":{"organisations","deliveries","sent","failed","pending",
 * "skipped","cancelled"},"organisations":[{"id","name","state",
 * "deliveries":[{"id","contact","channel","address","state","reason",
 * "attempts","last_error","sent_at"}]}]}
 * A new reference, or NULL with *ret_notfound set when no such alert.
 */
json_t *status_alert(struct store *s, const char *id, int *ret_notfound);

/* [{"id","title","type","severity","tlp","drill","state","created_at","counts"}], newest first. */
json_t *status_alert_list(struct store *s, int limit);

#endif

/*
 * The dry-run driver (`driver = "dryrun"`), for operators trying a
 * configuration: instead of sending, it appends one JSON line per message
 * to the file named by its `path` option, describing what would have been
 * sent, and reports success. It never contacts anyone.
 *
 * The driver table, dryrun_driver, is declared in channels/registry.h.
 */
#ifndef POCALERT_DRYRUN_H
#define POCALERT_DRYRUN_H

#include "common/buf.h"
#include "channels/channel.h"

/*
 * Appends the JSON line for msg (sent on channel, at now), with its
 * newline, to out. Returns 0, -EINVAL when a string is not UTF-8, or
 * -ENOMEM.
 */
int dryrun_render_line(struct buf *out, const char *channel,
		       const struct channel_message *msg, long long now);

#endif

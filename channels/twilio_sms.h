/*
 * The twilio-sms driver (`driver = "twilio-sms"`): one message per send
 * through a Twilio-shaped gateway's Messages resource, in at most three
 * segments. Its send completes when the status callback says delivered
 * (OK) or undelivered/failed (TEMPFAIL), or when the gateway stays
 * silent past status_timeout. Inbound messages (/hooks/{channel}/inbound)
 * are reported for the engine to match to a contact. The driver table is
 * declared in channels/registry.h.
 */
#ifndef POCALERT_TWILIO_SMS_H
#define POCALERT_TWILIO_SMS_H

#include "channels/channel.h"
#include "common/buf.h"

/* Segments a message body may take. */
#define TWILIO_SMS_MAX_SEGMENTS 3

/*
 * Renders msg's SMS body into out: drill marker, TLP label, the title
 * (cut at a character boundary to fit TWILIO_SMS_MAX_SEGMENTS) and the
 * reply link; above AMBER only the notice and the link. Returns 0 or
 * -ENOMEM.
 */
int twilio_sms_body(struct buf *out, const struct channel_message *msg);

#endif

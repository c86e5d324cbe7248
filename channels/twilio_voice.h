/*
 * The twilio-voice driver (`driver = "twilio-voice"`): places a call per
 * message through a Twilio-shaped gateway's Calls resource, with inline
 * TwiML that reads the message twice inside a one-digit Gather. Its send
 * completes when the gateway's status callback says how the call ended
 * (completed: OK; no-answer, busy, failed: TEMPFAIL; answered by a
 * machine: OK with detail "voicemail"), or when the gateway stays silent
 * past status_timeout. A Gather with 1 is reported as a confirmation; 9
 * repeats. The driver table is declared in channels/registry.h.
 */
#ifndef POCALERT_TWILIO_VOICE_H
#define POCALERT_TWILIO_VOICE_H

#include "channels/channel.h"
#include "common/buf.h"

/*
 * Renders what the call says for msg: the words spoken (no URLs, TLP
 * read as words, the content only up to AMBER, drill marked at both
 * ends), as TwiML with the Gather whose action is gather_url. Appends to
 * out. Returns 0 or -ENOMEM.
 */
int twilio_voice_twiml(struct buf *out, const struct channel_message *msg,
		       const char *gather_url);

#endif

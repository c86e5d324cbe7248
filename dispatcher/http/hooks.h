/*
 * The gateways' callbacks, POST /hooks/{channel}/{what}: status reports,
 * Gather actions (keypresses) and inbound SMS, form-encoded and signed
 * with X-Twilio-Signature. The handler decodes the form and hands it to
 * the engine (engine/gateway.h), whose channel driver checks the
 * signature: 403 and nothing recorded when it is wrong. The answer (200
 * with TwiML) waits until what the callback changed is on disk.
 */
#ifndef POCALERT_HTTP_HOOKS_H
#define POCALERT_HTTP_HOOKS_H

#include "dispatcher/http/api.h"

/* The route's handler: 200 TwiML, 400, 403, 404, 415 or 500. */
void hooks_handle(struct api_request *r, struct api_reply *out);

/*
 * Lets go of every request still waiting for the disk, for the server
 * about to free its connections: their answers are then dropped.
 */
void hooks_detach_all(void);

#endif

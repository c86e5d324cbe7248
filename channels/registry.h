/*
 * The drivers the registry knows. Each driver's file defines its table;
 * registry.c lists them. Declared here so the registry is the only place
 * that names them all.
 */
#ifndef POCALERT_REGISTRY_H
#define POCALERT_REGISTRY_H

#include "channels/channel.h"

/* drivers: one declaration each, keep sorted by name */
extern const struct channel_driver dryrun_driver;
extern const struct channel_driver fax_http_driver;
extern const struct channel_driver scripted_driver; /* tests only */
extern const struct channel_driver smtp_driver;
extern const struct channel_driver twilio_sms_driver;
extern const struct channel_driver twilio_voice_driver;
extern const struct channel_driver webhook_driver;

#endif

/*
 * The driver registry: every channel driver, found by name. Adding a
 * driver is adding its file to channels/ and one line to the array below.
 */
#include <stddef.h>
#include <string.h>

#include "channels/channel.h"
#include "channels/registry.h"

static const struct channel_driver *const drivers[] = {
	/* drivers: one line each, keep sorted by name */
	&dryrun_driver,
	&fax_http_driver,
	/* a test driver: its sends wait until a test completes them */
	&scripted_driver,
	&smtp_driver,
	&twilio_sms_driver,
	&twilio_voice_driver,
	&webhook_driver,
	NULL,
};

const struct channel_driver *const *channel_drivers(void)
{
	return drivers;
}

const struct channel_driver *channel_driver_find(const char *name)
{
	for (size_t i = 0; drivers[i] != NULL; i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}

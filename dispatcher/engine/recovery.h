/*
 * Recovery: reloading the unfinished work of the store into memory after
 * a start (alerts, their organisations, who was reached and who
 * confirmed, and their unsettled deliveries, queued again). The engine's
 * lifecycle calls it once, before the engine takes new alerts.
 */
#ifndef POCALERT_ENGINE_RECOVERY_H
#define POCALERT_ENGINE_RECOVERY_H

#include "dispatcher/engine/model.h"

/*
 * Reloads every alert that is active or still has deliveries to send
 * into e and queues their deliveries. The engine owns what it loads.
 * Returns 0, -ENOMEM or -EIO.
 */
int recovery_load(struct engine *e);

#endif

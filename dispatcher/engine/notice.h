/*
 * The words of the engine's own notices. Today one: the duty notice, the
 * list of an alert's unreachable organisations that the duty contacts of
 * the government organisation get when every organisation is closed. Its
 * text is built from the alert in memory, both when the notice is
 * planned and when recovery reloads one not yet sent, so both paths read
 * it from here. Below planning; reads the model only.
 */
#ifndef POCALERT_ENGINE_NOTICE_H
#define POCALERT_ENGINE_NOTICE_H

#include "dispatcher/engine/model.h"

/*
 * The duty notice's title and body for a, listing its organisations in
 * state unreachable. Returns 0 with *title and *body malloc'd (the caller
 * owns both), or -ENOMEM with neither.
 */
int notice_duty_text(const struct rt_alert *a, char **title, char **body);

#endif

/*
 * The directory as JSON, the shape of `contacts list --json` and
 * `contacts show --json`:
 * {"id","name","name_en","sector","kind","parent","hours","contacts":[{"id",
 * "name","role","language","methods":[{"channel","address","max_tlp",
 * "charset"}]}]}
 */
#ifndef POCALERT_DIRECTORY_JSON_H
#define POCALERT_DIRECTORY_JSON_H

#include <jansson.h>

#include "contacts/directory.h"

/* A new reference to the organisation as a JSON object, or NULL (ENOMEM). */
json_t *dir_org_to_json(const struct dir_org *o);

#endif

/*
 * The fax-http driver (`driver = "fax-http"`): renders each message as an
 * A4 PDF (fax_render.h) and uploads it to an HTTP fax gateway as
 * multipart/form-data (Media: the PDF, To, From, StatusCallback) at
 * {base_url}/2010-04-01/Accounts/{sid}/Faxes.json, with Basic auth like
 * the Twilio-shaped drivers. Its send completes on the status callback:
 * delivered (OK, with the pages sent) or failed (TEMPFAIL). The driver
 * table is declared in channels/registry.h.
 */
#ifndef POCALERT_FAX_HTTP_H
#define POCALERT_FAX_HTTP_H

#include "channels/channel.h"

#endif

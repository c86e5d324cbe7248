/*
 * The fax page: an A4 PDF drawn with cairo and pango in Noto CJK, for
 * the fax-http driver. Header 「緊急連絡 / Emergency notice」, the TLP
 * label in its TLP 2.0 colours (coloured text on black), a drill banner
 * for drills, the alert's title and text, the recipient organisation and
 * how to confirm: the reply link as text and as a QR code, and a phone
 * number when one is configured. Pure: no loop, no network.
 */
#ifndef POCALERT_FAX_RENDER_H
#define POCALERT_FAX_RENDER_H

#include "channels/channel.h"
#include "common/buf.h"

/*
 * Renders msg as a PDF into out (appended). phone may be NULL. Returns 0,
 * -ENOMEM, or -EIO when cairo fails.
 */
int fax_render_pdf(struct buf *out, const struct channel_message *msg,
		   const char *phone);

#endif

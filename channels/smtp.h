/*
 * The "smtp" channel driver: alerts as mail, handed to an SMTP relay
 * with libESMTP. A channel section using it:
 *
 *   channel "mail" {
 *     driver = "smtp"
 *     host = "127.0.0.1"       # the relay (default 127.0.0.1); no IPv6
 *                              # literals: libESMTP splits host:port at ':'
 *     port = 25                # default 25
 *     tls = "none"             # "none" or "starttls" (required once
 *                              # chosen); "tls" (implicit TLS) is refused
 *                              # because libESMTP 1.1 cannot do it
 *     from = "NISC 警報 <alert@nisc.example.jp>"   # required
 *     workers = 4              # threads, each running one SMTP session
 *     batch = 100              # most messages carried by one session
 *     timeout = 30             # seconds for each SMTP reply
 *     helo = "pocalert.example.jp"  # optional; default: the host name
 *   }
 *
 * Each message goes to its one address with its delivery key as the DSN
 * ENVID and in its Message-ID (see mail_render.h). The outcome is the
 * recipient's own reply: 2xx OK, 4xx TEMPFAIL, 5xx PERMFAIL; a session
 * that breaks before the message's fate is known is TEMPFAIL with code 0.
 */
#ifndef POCALERT_SMTP_H
#define POCALERT_SMTP_H

#include "channels/channel.h"

extern const struct channel_driver smtp_driver;

#endif

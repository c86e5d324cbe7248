#!/usr/bin/python3
"""A small SMTP server for tests, on aiosmtpd (Debian's python3-aiosmtpd).

It listens on 127.0.0.1, prints the port it got as the first line on
stdout, and saves every accepted message in a Maildir (written in tmp/,
then renamed into new/). In front of each message it puts the envelope,
so a test can check what the client said as well as what it sent:

    X-Test-Envelope-From: sender@example.jp
    X-Test-Envelope-To: poc@example.jp            (one per recipient)
    X-Test-Envelope-Mail-Options: RET=HDRS ENVID=d-1
    X-Test-Envelope-Rcpt-Options: TO:<poc@...> NOTIFY=FAILURE,DELAY ORCPT=...
    X-Test-Session: 3                              (connection number)
    X-Test-Queue-Id: ...                           (also the file's name)

The DSN parameters (RET, ENVID, NOTIFY, ORCPT) are kept as the client
wrote them, with ENVID and ORCPT xtext-decoded.

Faults, chosen by the recipient's local part, so any test can ask for
them just by its choice of address:
    tempfail...  451 on RCPT the first time this process sees the address,
                 accepted afterwards;
    permfail...  550 on RCPT, always;
    datafail...  554 after DATA (the whole message refused);
    slow...      the reply to DATA comes --slow seconds late.

With --events it goes on printing on stdout, one line each, when a slow
message's late reply starts and ends, so that a test waits on the server
instead of guessing with a sleep:
    slow-data ADDRESS    the client sent the whole message and now waits;
    slow-end ADDRESS     the wait is over: the message is saved or refused
                         and the reply goes, or the client has left (it
                         timed out) and the message is dropped.

Usage: smtp_server.py --maildir DIR [--port N] [--slow SECONDS] [--events]
Stops cleanly on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import itertools
import os
import re
import signal
import sys
import time

from aiosmtpd.smtp import SMTP, syntax

MAIL_DSN = {"RET", "ENVID"}
RCPT_DSN = {"NOTIFY", "ORCPT"}


def xtext_decode(value):
    """RFC 3461 xtext: "+XX" is the octet with hex value XX."""
    return re.sub(r"\+([0-9A-Fa-f]{2})",
                  lambda m: chr(int(m.group(1), 16)), value)


def split_params(arg, names):
    """Takes the ESMTP parameters named in names out of a MAIL or RCPT
    argument, case kept (aiosmtpd would upper-case and refuse them)."""
    keep, taken = [], []
    for word in arg.split(" "):
        key, eq, value = word.partition("=")
        if eq and key.upper() in names:
            if key.upper() in ("ENVID", "ORCPT"):
                value = xtext_decode(value)
            taken.append(key.upper() + "=" + value)
        else:
            keep.append(word)
    return " ".join(keep), taken


def local_part(address):
    return address.rsplit("@", 1)[0].lower()


class TestSMTP(SMTP):
    """aiosmtpd's SMTP with DSN parameters accepted and recorded, and the
    connection's number on its session."""

    def __init__(self, handler, number, **kwargs):
        super().__init__(handler, **kwargs)
        self.number = number

    def _create_session(self):
        session = super()._create_session()
        session.test_number = self.number
        return session

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg):
        if arg is None:
            return await super().smtp_MAIL(arg)
        rest, dsn = split_params(arg, MAIL_DSN)
        before = self.envelope.mail_from
        await super().smtp_MAIL(rest)
        if before is None and self.envelope.mail_from is not None:
            self.envelope.dsn_mail = dsn

    @syntax("RCPT TO: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_RCPT(self, arg):
        if arg is None:
            return await super().smtp_RCPT(arg)
        rest, dsn = split_params(arg, RCPT_DSN)
        count = len(self.envelope.rcpt_tos)
        await super().smtp_RCPT(rest)
        if len(self.envelope.rcpt_tos) > count:
            if not hasattr(self.envelope, "dsn_rcpt"):
                self.envelope.dsn_rcpt = []
            self.envelope.dsn_rcpt.append(" ".join([rest.strip()] + dsn))


class Handler:
    def __init__(self, maildir, slow, events):
        self.maildir = maildir
        self.slow = slow
        self.events = events
        self.tempfailed = set()
        self.counter = itertools.count(1)
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(maildir, sub), exist_ok=True)

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        # Offer DSN and PIPELINING before the final "250 HELP".
        return responses[:-1] + ["250-DSN", "250-PIPELINING", responses[-1]]

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        local = local_part(address)
        if local.startswith("permfail"):
            return f"550 5.1.1 <{address}>: mailbox unavailable (permfail)"
        if local.startswith("tempfail") and address.lower() not in \
                self.tempfailed:
            self.tempfailed.add(address.lower())
            return "451 4.7.1 try again later (tempfail)"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    def event(self, what, address):
        if self.events:
            print(what, address, flush=True)

    async def handle_DATA(self, server, session, envelope):
        locals_ = [local_part(a) for a in envelope.rcpt_tos]
        slow = [a for a in envelope.rcpt_tos
                if local_part(a).startswith("slow")]
        if not slow:
            return self.reply_to_data(session, envelope, locals_)
        self.event("slow-data", slow[0])
        try:
            await asyncio.sleep(self.slow)
            return self.reply_to_data(session, envelope, locals_)
        finally:
            # Also when aiosmtpd cancels us because the client left.
            self.event("slow-end", slow[0])

    def reply_to_data(self, session, envelope, locals_):
        if any(lp.startswith("datafail") for lp in locals_):
            return "554 5.6.0 message refused (datafail)"
        qid = self.deliver(session, envelope)
        return f"250 2.0.0 Ok: queued as {qid}"

    def deliver(self, session, envelope):
        """Writes the message into tmp/, then renames it into new/, so a
        reader of new/ never sees half a message."""
        qid = "%d.P%dQ%d.pocalert-test" % (time.time_ns(), os.getpid(),
                                          next(self.counter))
        head = [f"X-Test-Envelope-From: {envelope.mail_from}"]
        head += [f"X-Test-Envelope-To: {a}" for a in envelope.rcpt_tos]
        mail_opts = list(envelope.mail_options)
        mail_opts += getattr(envelope, "dsn_mail", [])
        head.append("X-Test-Envelope-Mail-Options: " + " ".join(mail_opts))
        for opts in getattr(envelope, "dsn_rcpt", []):
            head.append(f"X-Test-Envelope-Rcpt-Options: {opts}")
        head.append(f"X-Test-Session: {session.test_number}")
        head.append(f"X-Test-Queue-Id: {qid}")
        data = ("\r\n".join(head) + "\r\n").encode() + \
            envelope.original_content
        tmp = os.path.join(self.maildir, "tmp", qid)
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.maildir, "new", qid))
        return qid


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0,
                    help="port on 127.0.0.1, 0 for any free one")
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--slow", type=float, default=3.0,
                    help="seconds a slow... recipient waits for DATA's reply")
    ap.add_argument("--events", action="store_true",
                    help="print slow-data and slow-end lines on stdout")
    args = ap.parse_args()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Handler(args.maildir, args.slow, args.events)
    sessions = itertools.count(1)

    def factory():
        return TestSMTP(handler, next(sessions), hostname="smtp.test",
                        ident="pocalert-test")

    server = loop.run_until_complete(
        loop.create_server(factory, host="127.0.0.1", port=args.port))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    print(server.sockets[0].getsockname()[1], flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# slixmpp_recv: slixmpp's receive benchmark client -- counts <message/> through a stanza handler.
#
#   slixmpp_recv.py HOST PORT DOMAIN SECRET
#
# A slixmpp ComponentXMPP (XEP-0114). slixmpp's own 'message' event fires only for messages
# with a <body/>, so the count goes through register_handler() with a StanzaPath('message')
# callback, slixmpp's normal public path for stanza handlers (its plugins use the same). Stops at
# the disconnect that follows the server's stream end. Prints "stats cpu_seconds=...
# peak_rss_kb=..." (CPU from session_start to the end) and the count, last.
import asyncio
import logging
import resource
import sys

from slixmpp.componentxmpp import ComponentXMPP
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import StanzaPath


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


class Counter(ComponentXMPP):
    def __init__(self, host, port, domain, secret):
        super().__init__(domain, secret, host, port)
        self.count = 0
        self.cpu_at_start = None
        self.register_handler(Callback('bench count', StanzaPath('message'), self.on_message))
        self.add_event_handler('session_start', self.on_start)

    def on_start(self, _event):
        self.cpu_at_start = cpu_seconds()

    def on_message(self, _msg):
        self.count += 1


def main():
    if len(sys.argv) < 5:
        print('usage: slixmpp_recv.py HOST PORT DOMAIN SECRET', file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.ERROR)
    host, port, domain, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    xmpp = Counter(host, port, domain, secret)
    xmpp.connect()
    asyncio.get_event_loop().run_until_complete(xmpp.disconnected)
    if xmpp.cpu_at_start is None:
        print('slixmpp_recv: never started a session', file=sys.stderr)
        return 1
    print('stats cpu_seconds=%.6f peak_rss_kb=%d'
          % (cpu_seconds() - xmpp.cpu_at_start,
             resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    print(xmpp.count)
    return 0


if __name__ == '__main__':
    sys.exit(main())

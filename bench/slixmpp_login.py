#!/usr/bin/python3
# slixmpp_login: slixmpp's login cost -- COUNT sequential full XMPP logins, then a count.
#
#   slixmpp_login.py HOST PORT JID PASSWORD COUNT CAFILE [--mech NAME]
#
# Each login is a new ClientXMPP (slixmpp's usual use) on one asyncio loop: TCP, STARTTLS with the
# certificate verified against CAFILE, SASL (NAME, else slixmpp's choice), bind, session start,
# then disconnect. slixmpp builds its SSL context with ssl.create_default_context(), so the
# system trust store is loaded for every client whatever CAFILE says. Prints "login ok=...
# failed=... cpu_first_ms=... cpu_rest_ms=... wall_ms=...", the stats line, and the number of
# logins that succeeded, last.
import asyncio
import logging
import resource
import sys
import time

from slixmpp import ClientXMPP


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def login_once(host, port, jid, password, cafile, mech):
    xmpp = ClientXMPP(jid, password, sasl_mech=mech)
    xmpp.ca_certs = cafile
    started = asyncio.get_event_loop().create_future()

    def on_start(_event):
        if not started.done():
            started.set_result(True)
        xmpp.disconnect()

    def on_failure(*_args):
        if not started.done():
            started.set_result(False)
        xmpp.disconnect()

    xmpp.add_event_handler('session_start', on_start)
    xmpp.add_event_handler('failed_all_auth', on_failure)
    xmpp.add_event_handler('connection_failed', on_failure)
    xmpp.connect((host, port))
    try:
        ok = await asyncio.wait_for(started, 30)
    except asyncio.TimeoutError:
        ok = False
        xmpp.disconnect()
    await xmpp.disconnected
    return ok


async def main_async(args):
    host, port, jid, password, count, cafile = args[:6]
    mech = args[args.index('--mech') + 1] if '--mech' in args else None
    cpu = []
    ok = 0
    for i in range(int(count)):
        before = cpu_seconds()
        ok += 1 if await login_once(host, int(port), jid, password, cafile, mech) else 0
        cpu.append(cpu_seconds() - before)
    return ok, cpu


def main():
    if len(sys.argv) < 7:
        print('usage: slixmpp_login.py HOST PORT JID PASSWORD COUNT CAFILE [--mech NAME]',
              file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.CRITICAL)
    cpu0 = cpu_seconds()
    wall0 = time.monotonic()
    ok, cpu = asyncio.get_event_loop().run_until_complete(main_async(sys.argv[1:]))
    count = int(sys.argv[5])
    print('login ok=%d failed=%d cpu_first_ms=%.3f cpu_rest_ms=%.3f wall_ms=%.3f' % (
        ok, count - ok, cpu[0] * 1e3 if cpu else 0,
        sum(cpu[1:]) / (len(cpu) - 1) * 1e3 if len(cpu) > 1 else 0,
        (time.monotonic() - wall0) / count * 1e3 if count else 0))
    print('stats cpu_seconds=%.6f peak_rss_kb=%d'
          % (cpu_seconds() - cpu0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    print(ok)
    return 0 if ok == count else 1


if __name__ == '__main__':
    sys.exit(main())

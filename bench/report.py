#!/usr/bin/python3
# report.py: turns bench/run.sh's raw results into the table it prints and doc/benchmarks.md.
#
#   report.py --results TSV --callgrind TSV --machine FILE --notes FILE --analysis FILE --doc FILE
#   callgrind_annotate OUT | report.py --dso-split NAME COUNT      (one line of the callgrind TSV)
#
# Results TSV, one line per run: scenario, variant, round, stanzas, seconds, rate, client CPU
# seconds, client peak RSS (KiB), client count, expected count, extra "key=value" fields.
import argparse
import os
import re
import statistics
import sys

import plots
from report_callgrind import callgrind_table, dso_split

RECV_ORDER = ['read-only', 'libxml2-sax', 'pcj', 'libstrophe', 'gloox', 'slixmpp']
RECV_LABEL = {
    'read-only': 'limit: read() of the bytes only',
    'libxml2-sax': 'limit: libxml2 SAX2 push parser, counting depth-1 ends',
    'pcj': '**pcj** (PubSub, PCJ_NODERECEIVED subscriber)',
    'libstrophe': 'libstrophe (C, xmpp_handler_add)',
    'gloox': 'gloox (C++, MessageHandler)',
    'slixmpp': 'slixmpp (Python, StanzaPath handler)',
}


def read_results(path):
    runs = {}
    with open(path) as f:
        for line in f:
            cols = line.rstrip('\n').split('\t')
            if len(cols) < 11:
                continue
            scenario, variant, rnd, stanzas, seconds, rate, cpu, rss, count, expected, extra = cols[:11]
            try:
                run = {
                    'round': int(rnd), 'stanzas': int(stanzas), 'seconds': float(seconds),
                    'rate': float(rate), 'cpu': float(cpu) if cpu else None,
                    'rss': int(rss) if rss else None, 'count': count, 'expected': expected,
                    'extra': dict(re.findall(r'(\w+)=(\S+)', extra)),
                    'rss_at': re.findall(r'rss_at count=(\d+) rss_kb=(\d+)', extra),
                }
            except ValueError:
                continue
            runs.setdefault((scenario, variant), []).append(run)
    return runs


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


class Summary:
    """Medians of one (scenario, variant) over its runs."""

    def __init__(self, runs):
        self.runs = runs
        self.n = len(runs)
        self.rate = med([r['rate'] for r in runs])
        self.cpu_us = med([r['cpu'] / r['stanzas'] * 1e6 if r['cpu'] is not None and r['stanzas']
                           else None for r in runs])
        self.rss = med([r['rss'] for r in runs])
        self.lo = min(r['rate'] for r in runs)
        self.hi = max(r['rate'] for r in runs)
        self.counts_ok = all(r['count'] == r['expected'] for r in runs)

    @property
    def cpu_rate(self):
        return 1e6 / self.cpu_us if self.cpu_us else None


def fmt_rate(x):
    return '—' if x is None else '{:,.0f}'.format(x)


def fmt_us(x):
    if x is None:
        return '—'
    return '%.3f' % x if x < 1 else '%.2f' % x if x < 10 else '%.1f' % x


def fmt_mb(kb):
    return '—' if kb is None else '%.1f MB' % (kb / 1024)


def ratio(a, b, pct=False):
    if a is None or not b:
        return '—'
    if pct:
        return '%.1f %%' % (100 * a / b) if a / b < 0.095 else '%.0f %%' % (100 * a / b)
    return '%.2f×' % (a / b)


def recv_table(s):
    rows = ['| client | stanzas/s | CPU µs/stanza | peak RSS | vs libstrophe: wall / CPU '
            '| vs SAX limit: wall / CPU | runs (rate range) |',
            '|---|---:|---:|---:|---:|---:|---|']
    strophe = s.get(('recv', 'libstrophe'))
    sax = s.get(('recv', 'libxml2-sax'))
    for v in RECV_ORDER:
        x = s.get(('recv', v))
        if x is None:
            continue
        vs_strophe = '%s / %s' % (ratio(x.rate, strophe.rate), ratio(strophe.cpu_us, x.cpu_us)) \
            if strophe and v != 'read-only' else '—'
        vs_sax = '%s / %s' % (ratio(x.rate, sax.rate, True), ratio(sax.cpu_us, x.cpu_us, True)) \
            if sax and v != 'read-only' else '—'
        bad = '' if x.counts_ok else ' ⚠ count mismatch'
        rows.append('| %s | %s | %s | %s | %s | %s | %d (%s–%s)%s |' % (
            RECV_LABEL[v], fmt_rate(x.rate), fmt_us(x.cpu_us), fmt_mb(x.rss), vs_strophe, vs_sax,
            x.n, fmt_rate(x.lo), fmt_rate(x.hi), bad))
    src = med([float(r['extra']['source_cpu']) / r['stanzas'] * 1e6
               for k, x in s.items() if k[0] == 'recv' for r in x.runs
               if r['extra'].get('source_cpu', '') not in ('', 'None')])
    if src is not None:
        rows.append('\nThe stanza source used %s µs of CPU per stanza (median over these runs).'
                    % fmt_us(src))
    return '\n'.join(rows)


def filter_table(s):
    base = s.get(('filters', '0'))
    rows = ['| XPath filters | stanzas per run | stanzas/s | CPU µs/stanza | % of no-filter rate: '
            'wall / CPU | filter events per stanza |',
            '|---:|---:|---:|---:|---:|---:|']
    for v in ['0', '1', '10', '100', '1000']:
        x = s.get(('filters', v))
        if x is None:
            continue
        fired = med([int(r['extra'].get('fired', 0)) / r['stanzas'] for r in x.runs])
        rows.append('| %s | %s | %s | %s | %s / %s | %.2f |' % (
            v, fmt_rate(x.runs[0]['stanzas']), fmt_rate(x.rate), fmt_us(x.cpu_us),
            ratio(x.rate, base.rate if base else None, True),
            ratio(base.cpu_us if base else None, x.cpu_us, True), fired or 0))
    return '\n'.join(rows)


def other_tables(s):
    out = []
    x = s.get(('send', 'pcj'))
    if x:
        out.append('| send: output() to the sink | stanzas/s (sink\'s clock) | CPU µs/stanza | '
                   'peak RSS | runs (rate range) |\n|---|---:|---:|---:|---|\n'
                   '| pcj, %s messages | %s | %s | %s | %d (%s–%s) |' % (
                       fmt_rate(x.runs[0]['stanzas']), fmt_rate(x.rate), fmt_us(x.cpu_us),
                       fmt_mb(x.rss), x.n, fmt_rate(x.lo), fmt_rate(x.hi)))
    if sendack_table(s):
        out.append(sendack_table(s))
    x = s.get(('rts', 'pcj'))
    if x:
        req_us = med([float(r['extra'].get('request_cpu', 0)) / r['stanzas'] * 1e6 for r in x.runs])
        rep_us = med([float(r['extra'].get('reply_cpu', 0)) / r['stanzas'] * 1e6 for r in x.runs])
        out.append('| return_to_sender | replies matched/s (source\'s clock) | CPU µs per request '
                   '| CPU µs per reply | peak RSS | runs (rate range) |\n'
                   '|---|---:|---:|---:|---:|---|\n'
                   '| pcj, %s outstanding, answered shuffled | %s | %s | %s | %s | %d (%s–%s) |' % (
                       fmt_rate(x.runs[0]['stanzas']), fmt_rate(x.rate), fmt_us(req_us),
                       fmt_us(rep_us), fmt_mb(x.rss), x.n, fmt_rate(x.lo), fmt_rate(x.hi)))
    x = s.get(('rss', 'pcj'))
    if x and x.runs[0]['rss_at']:
        points = {}
        for r in x.runs:
            for count, kb in r['rss_at']:
                points.setdefault(int(count), []).append(int(kb))
        keys = sorted(points)
        first, last = med(points[keys[0]]), med(points[keys[-1]])
        out.append('| memory over time (pcj) | %s |\n|---|%s\n| RSS | %s |\n\nGrowth from %s to %s '
                   'stanzas: %+.1f %%.' % (
                       ' | '.join('after %s stanzas' % fmt_rate(k) for k in keys),
                       '---:|' * len(keys),
                       ' | '.join(fmt_mb(med(points[k])) for k in keys),
                       fmt_rate(keys[0]), fmt_rate(keys[-1]), 100 * (last - first) / first))
    return '\n\n'.join(out)

SENDACK_ORDER = [('plain', 'pcj, output(): no outcome, no stream management'),
                 ('outcome', 'pcj, output(node, callback): per-stanza outcome'),
                 ('outcome+sm5', 'pcj, outcome + XEP-0198 acks, `ack_every` 5 (default)'),
                 ('outcome+sm50', 'pcj, outcome + XEP-0198 acks, `ack_every` 50')]


def sendack_table(s):
    plain = s.get(('sendack', 'plain'))
    rows = ['| send as an XMPP client (c2s sink, no TLS) | stanzas/s (sink\'s clock) | CPU µs/stanza '
            '| % of plain output(): wall / CPU | `<r/>` answered | peak RSS | runs (rate range) |',
            '|---|---:|---:|---:|---:|---:|---|']
    for v, label in SENDACK_ORDER:
        x = s.get(('sendack', v))
        if x is None:
            continue
        requests = med([int(r['extra']['requests']) for r in x.runs if 'requests' in r['extra']])
        rows.append('| %s | %s | %s | %s / %s | %s | %s | %d (%s–%s) |' % (
            label, fmt_rate(x.rate), fmt_us(x.cpu_us), ratio(x.rate, plain.rate if plain else None, True),
            ratio(plain.cpu_us if plain else None, x.cpu_us, True), fmt_rate(requests),
            fmt_mb(x.rss), x.n, fmt_rate(x.lo), fmt_rate(x.hi)))
    return '\n'.join(rows) if len(rows) > 2 else ''


LOGIN_ORDER = ['pcj, CA file', 'pcj, system store', 'libstrophe, CA file',
               'libstrophe, system store', 'slixmpp, CA file']


def login_ms(x, key):
    """Median over runs of a per-login CPU figure in ms: 'mean' (the process's CPU / logins),
    'cpu_first_ms' or 'cpu_rest_ms'."""
    if x is None:
        return None
    if key == 'mean':
        return x.cpu_us / 1000 if x.cpu_us is not None else None
    return med([float(r['extra'][key]) for r in x.runs if key in r['extra']])


def login_tables(s):
    phases = [p for p in ('SCRAM-SHA-1', 'PLAIN') if any(k[0] == 'login-' + p for k in s)]
    if not phases:
        return ''
    head = '| client, trust store |' + ''.join(
        ' %s: CPU ms per login | first login | later logins |' % p for p in phases) + \
        ' wall ms per login (%s) | peak RSS |' % phases[0]
    rows = [head, '|---|' + '---:|' * (3 * len(phases) + 2)]
    for v in LOGIN_ORDER:
        xs = [s.get(('login-' + p, v)) for p in phases]
        if all(x is None for x in xs):
            continue
        cells = []
        for x in xs:
            cells += [fmt_us(login_ms(x, k)) for k in ('mean', 'cpu_first_ms', 'cpu_rest_ms')]
        first = next(x for x in xs if x is not None)
        wall = med([float(r['extra'].get('wall_ms', 0)) for r in first.runs])
        rows.append('| %s | %s | %s | %s |' % (v, ' | '.join(cells), fmt_us(wall), fmt_mb(first.rss)))
    text = '\n'.join(rows)
    x = s.get(('login-reconnect', 'pcj, CA file'))
    if x:
        y = s.get(('login-reconnect', 'libstrophe, CA file'))
        text += ('\n\n| SCRAM-SHA-1 against stored hashed credentials (a stable salt) | first login '
                 '| each later login in the same process |\n|---|---:|---:|\n'
                 '| pcj, CA file (reuses the salted password) | %s ms | %s ms |' % (
                     fmt_us(login_ms(x, 'cpu_first_ms')), fmt_us(login_ms(x, 'cpu_rest_ms'))))
        if y:
            text += '\n| libstrophe, CA file (hashes again) | %s ms | %s ms |' % (
                fmt_us(login_ms(y, 'cpu_first_ms')), fmt_us(login_ms(y, 'cpu_rest_ms')))
    return text



def idle_table(s):
    rows = ['| client, connections held | RSS per connection | RSS as held | heap in use '
            '| CPU per login | time to log them all in | peak RSS |',
            '|---|---:|---:|---:|---:|---:|---:|']
    keys = sorted((k for k in s if k[0] == 'idle'), key=lambda k: (not k[1].startswith('pcj'),
                                                                    int(k[1].split(', ')[-1])))
    for k in keys:
        r = s[k].runs[0]
        e = r['extra']
        rows.append('| %s | %s KB | %s KB | %s KB | %s ms | %.1f s | %s |' % (
            k[1], e.get('rss_per_conn_kb', '?'), e.get('rss_held_per_conn_kb', '?'),
            e.get('heap_per_conn_kb', '?'), e.get('cpu_per_login_ms', '?'), r['seconds'],
            fmt_mb(r['rss'])))
    return '\n'.join(rows) if keys else ''


def targets(s):
    rows = ['| target | measured (wall clock) | measured (CPU) | status |', '|---|---:|---:|---|']

    def add(name, wall, cpu, goal, fmt):
        if wall is None:
            rows.append('| %s | not measured | | — |' % name)
            return
        status = 'met' if wall >= goal else ('met on CPU, not on the wall clock' if cpu and cpu >= goal
                                             else 'missed')
        rows.append('| %s | %s | %s | %s |' % (name, fmt(wall), fmt(cpu) if cpu else '—', status))

    pcj, strophe, sax = (s.get(('recv', v)) for v in ('pcj', 'libstrophe', 'libxml2-sax'))
    rate = lambda x: fmt_rate(x) + '/s'
    times = lambda x: '%.2f×' % x
    pct = lambda x: '%.1f %%' % (100 * x) if x < 0.095 else '%.0f %%' % (100 * x)
    if pcj:
        add('receive ≥ 1,000,000 stanzas/s', pcj.rate, pcj.cpu_rate, 1e6, rate)
        if strophe:
            add('receive ≥ 4× libstrophe', pcj.rate / strophe.rate, strophe.cpu_us / pcj.cpu_us, 4, times)
        if sax:
            add('receive ≥ 80 % of the libxml2 SAX limit', pcj.rate / sax.rate, sax.cpu_us / pcj.cpu_us,
                0.8, pct)
    base = s.get(('filters', '0'))
    for n, goal in (('1', 0.8), ('100', 0.6), ('1000', 0.4)):
        x = s.get(('filters', n))
        if base and x:
            add('%s filters ≥ %d %% of the no-filter rate' % (n, goal * 100), x.rate / base.rate,
                base.cpu_us / x.cpu_us, goal, pct)
    x = s.get(('send', 'pcj'))
    if x:
        add('send ≥ 1,000,000 stanzas/s', x.rate, x.cpu_rate, 1e6, rate)
    plain, acks = s.get(('sendack', 'plain')), s.get(('sendack', 'outcome+sm5'))
    if plain and acks:
        add('send with per-stanza outcome and XEP-0198 acks (default cadence) ≥ 90 % of plain '
            'output(), same c2s sink', acks.rate / plain.rate, plain.cpu_us / acks.cpu_us, 0.9, pct)
    x = s.get(('rts', 'pcj'))
    if x:
        rep = med([float(r['extra'].get('reply_cpu', 0)) / r['stanzas'] for r in x.runs])
        add('return_to_sender ≥ 500,000 replies/s', x.rate, 1 / rep if rep else None, 5e5, rate)
    x = s.get(('rss', 'pcj'))
    if x and x.runs[0]['rss_at']:
        pts = {}
        for r in x.runs:
            for count, kb in r['rss_at']:
                pts.setdefault(int(count), []).append(int(kb))
        k = sorted(pts)
        growth = (med(pts[k[-1]]) - med(pts[k[0]])) / med(pts[k[0]])
        rows.append('| RSS after 2M within 5 %% of RSS after 200k | %+.1f %% | | %s |' % (
            100 * growth, 'met' if abs(growth) <= 0.05 else 'missed'))
    login_targets(s, rows)
    idle = {k[1]: v.runs[0] for k, v in s.items() if k[0] == 'idle' and k[1].startswith('pcj')}
    if idle:
        biggest = max(idle, key=lambda v: int(v.split(', ')[-1]))
        kb = float(idle[biggest]['extra'].get('rss_per_conn_kb', 'nan'))
        rows.append('| idle: ≤ 24 KB RSS per logged-in TLS connection | %.1f KB (%s) | | %s |' % (
            kb, biggest, 'met' if kb <= 24 else 'missed'))
        n = int(biggest.split(', ')[-1])
        rows.append('| idle: 10,000 connections held by one process | %s held | | %s |' % (
            fmt_rate(n), 'met' if n >= 10000 else 'not tried'))
    else:
        rows.append('| idle connections (scenario 6) | not measured | | — |')
    return '\n'.join(rows)


def login_targets(s, rows):
    ph = 'login-SCRAM-SHA-1'
    pairs = (('system store', 0.5, 'CPU per TLS + SCRAM-SHA-1 login ≤ ½ libstrophe\'s, system trust store'),
             ('CA file', 1.0, 'CPU per TLS + SCRAM-SHA-1 login ≤ libstrophe\'s, one CA file'))
    for trust, factor, name in pairs:
        p, l = s.get((ph, 'pcj, ' + trust)), s.get((ph, 'libstrophe, ' + trust))
        if not p or not l:
            rows.append('| %s | not measured | | — |' % name)
            continue
        pm, lm, pf = login_ms(p, 'mean'), login_ms(l, 'mean'), login_ms(p, 'cpu_first_ms')
        rows.append('| %s | pcj %s ms (first login of a process %s ms) vs libstrophe %s ms | | %s |' % (
            name, fmt_us(pm), fmt_us(pf), fmt_us(lm), 'met' if pm <= factor * lm else 'missed'))
    x = s.get(('login-reconnect', 'pcj, CA file'))
    if x:
        r = login_ms(x, 'cpu_rest_ms')
        rows.append('| a reconnect reusing the salted password ≤ 3 ms CPU | %s ms | | %s |' % (
            fmt_us(r), 'met' if r <= 3 else 'missed'))
    else:
        rows.append('| a reconnect reusing the salted password ≤ 3 ms CPU | not measured | | — |')


def read_kv(path):
    kv = {}
    with open(path) as f:
        for line in f:
            if '=' in line:
                k, v = line.rstrip('\n').split('=', 1)
                kv[k] = v
    return kv


def load_note(m):
    try:
        load = max(float(m['load_before'].split()[0]), float(m['load_after'].split()[0]))
    except (KeyError, ValueError, IndexError):
        load = None
    busy = load is not None and load > 1.0
    return ('other work shared the machine during the run: wall-clock rates are depressed by it; '
            if busy else 'the machine was otherwise nearly idle; ') + \
        'CPU time per stanza and the instruction counts are the figures least sensitive to load'


def write_doc(args, s, m, tables):
    notes = open(args.notes).read().strip() if args.notes else ''
    try:
        analysis = open(args.analysis).read().strip()
    except OSError:
        analysis = ''
    raw = ['| scenario | variant | round | stanzas | seconds | stanzas/s | client CPU s | peak RSS KiB | count / expected |',
           '|---|---|---:|---:|---:|---:|---:|---:|---|']
    for (scenario, variant), runs in s.items():
        for r in runs.runs:
            raw.append('| %s | %s | %d | %d | %.3f | %s | %s | %s | %s / %s |' % (
                scenario, variant, r['round'], r['stanzas'], r['seconds'], fmt_rate(r['rate']),
                '%.3f' % r['cpu'] if r['cpu'] is not None else '—', r['rss'] or '—', r['count'],
                r['expected']))
    versions = ', '.join('%s %s' % (k[8:], v) for k, v in m.items() if k.startswith('version_') and v)
    doc = f'''# Benchmarks

Generated by `bench/run.sh` on {m.get('date', '?')} (pcj {m.get('commit', '?')}). Do not edit by
hand: rerun the script. The analysis at the end is kept in `bench/analysis.md`.

{('## At a glance' + chr(10) + chr(10) + 'Drawn by gnuplot from `img/benchmarks.dat`, which holds the medians the tables below are made of.' + chr(10) + chr(10) + tables['pictures']) if tables['pictures'] else ''}

## Machine and method

- {m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('memory', '?')}; {m.get('os', '?')}, Linux {m.get('kernel', '?')}
- load average before / after the run: {m.get('load_before', '?')} / {m.get('load_after', '?')}
  ({load_note(m)})
- {versions}
- {m.get('runs', '?')} rounds, each client alternated inside every round; medians; the measured part took
  {m.get('elapsed', '?')} s. Counts per run: {m.get('counts', '?')}.

Each run starts `stanza_source` (bench/stanza_source.cpp), a one-connection XEP-0114 server on
plain POSIX sockets: it checks the component handshake (SHA-1 of stream id + secret), then writes
N pre-generated messages (≈ 270 bytes on average: chat with chat state, `xml:lang`, thread and
receipt request; groupchat with stanza-id; subjects; receipts; entities and multi-byte UTF-8 in
the bodies) in large writes, an end marker and `</stream:stream>`. **stanzas/s** is N divided by
the source's time from its `<handshake/>` to the client's close (or its `</stream:stream>`).
**CPU µs/stanza** is the client's own user + system CPU from its ready event to its end, divided by
N; **peak RSS** is the client's `ru_maxrss`. The source's own CPU per stanza is given under the
table: it is never the bottleneck (the read()-only row shows the ceiling it allows).
Every client counts `<message/>` through its library's normal public handler and must report
exactly N, or the run is rejected.

## Receive (scenario 1)

{tables['recv']}

## Instructions per stanza (callgrind, marginal cost between {m.get('callgrind_counts', '?').replace(',', ' and ')} stanzas)

Counted by valgrind, so independent of the machine's load; split by the shared object the
instructions ran in.

{tables['callgrind'] or '(not measured: valgrind missing or --no-callgrind)'}

## XPath filters (scenario 2)

Half the filters select by element name (a few common children such as `/message/body`, the rest
extension payloads the traffic rarely carries, `/message/eN:payload`), half by the predicates a
service registers, in turn: a recipient (`/message[@to='svcN@…']`), a subject
(`/message[subject='…']`, the first one the traffic's own subject), a type and a sender
(`/message[@type='chat'][@from='userN@…']`), a command at the start of the body
(`/message[starts-with(body,'!cmdN ')]`), a body and a recipient (`/message[body][@to='svcN@…']`),
a type and a room (`/message[@type='groupchat'][starts-with(@from,'roomN@')]`), a payload and an
id (`/message[sid:stanza-id][@id='gN']`), a child's attribute
(`/message[sid:stanza-id/@by='roomN@…']`), a body and a sender (`/message[body][@from='userN@…']`)
(bench/pcj_recv.cpp). Each is under its own event with its own subscriber. Every one of these
shapes is in the fast path's subset (below): libxml2 compiles them all, and the fast path, proven
equal to libxml2 on that subset, evaluates them on the stanza's `Node`.

{tables['filters']}

## Send, return_to_sender, memory (scenarios 4, 8, 3, 7)

Scenario 4 sends as a component to the source's sink (`pcj_send`). Scenario 8 sends the same
messages as an XMPP client (`pcj_acks`, SASL PLAIN without TLS) to the source's c2s sink
(`stanza_source --mode c2s`, which answers every `<r/>` at once): plain `output(node)`, then
`output(node, callback)` with a per-stanza outcome, then with XEP-0198 stream management on as
well, where the run ends when the last stanza is `acked`. Its rate is on the sink's clock, from
the bind result to the client's stream end.

{tables['other']}

## Login cost against Prosody (scenario 5)

Sequential full logins (TCP, STARTTLS with the certificate verified, SASL, bind, session, clean
close) against a throwaway Prosody {m.get('version_prosody', '')} on 127.0.0.1 started by
`test/servers/pcj-testserver`, reconfigured for each table to offer only the mechanism named
(libstrophe cannot be told which mechanism to use). Logins: {m.get('logins', '?')}; medians
over the rounds. **CPU ms per login** is the client process's whole CPU divided by the
logins (what a process doing that many logins pays per login); **first login** includes loading
the trust store. pcj loads TLS credentials once per process and shares them; libstrophe (built
on OpenSSL in Debian) and slixmpp load the system store for every connection, CA file or not.
The test CA is not in the system store, so "system store" runs trust the server through a pin
(pcj) or a certificate-failure handler accepting the test CA (libstrophe), after the store has
been loaded and checked. Prosody's internal_plain storage hands out a fresh salt at every SCRAM
login, so every login there pays the salted-password hashing; the last table uses hashed storage.

{tables['login'] or '(not measured: --no-login, or Prosody unavailable)'}

## Idle connections (scenario 6)

Logged-in TLS connections (SCRAM-SHA-1 against hashed storage, the CA file) held by one process
on one loop, logging in 64 at a time, then held idle for 5 s. At the end of the hold, every
connection still logged in, the RSS the process gained is divided by their number: **RSS per
connection** after glibc's `malloc_trim(0)` has returned wholly free pages, **RSS as held** before
it (both clients are measured the same way), and **heap in use** is what malloc has handed out
and not had back (`mallinfo2`). Each connection is a full pcj `Component` (libstrophe: an
`xmpp_conn_t`) with its TLS session; pcj frees an idle connection's XML parser after 1–2 s
without data.

{tables['idle'] or '(not measured)'}

## Targets

Issue 6's receive, send and return_to_sender rates, issue 16's receive share, filter costs,
send with acknowledgements and idle memory.

{tables['targets']}

## How to reproduce

```
bench/run.sh              # installs the peers' packages (root), builds build-bench (release), runs, writes this file
bench/run.sh --quick      # one short round, to try the script
bench/run.sh --no-apt --no-callgrind --runs 3 --doc /tmp/benchmarks.md
```

Programs (built in `build-bench/bench/`), each usable alone:

- `stanza_source --mode recv|sink|rts|c2s --count N [--mix] [--half-close] [--sm] [--port-file F]`
  (`c2s`: an XMPP client login without TLS and a sink answering XEP-0198 `<r/>`; `--sm` offers
  stream management)
- `pcj_recv HOST PORT DOMAIN SECRET [--filters N] [--rss-at N,…]` — the receive contract: counts
  `<message/>` in a PCJ_NODERECEIVED subscriber, exits after the server's stream end, prints the
  count last
- `pcj_send HOST PORT DOMAIN SECRET COUNT`, `pcj_rts HOST PORT DOMAIN SECRET COUNT`
- `sax_limit HOST PORT DOMAIN SECRET [--read-only]`, `strophe_recv`, `gloox_recv`,
  `bench/slixmpp_recv.py` (same arguments)
- `pcj_login HOST PORT JID PASSWORD COUNT CAFILE|system [--mech M] [--pin sha256:HEX]`, and
  `strophe_login`, `bench/slixmpp_login.py` likewise: COUNT sequential logins, the number that
  succeeded last
- `pcj_idle HOST PORT DOMAIN USER:PASS[,…] M CAFILE HOLD_SECONDS [--mech M]`, and
  `strophe_idle`: M logged-in connections in one process, RSS per connection and CPU per login
- `pcj_acks HOST PORT DOMAIN USER PASSWORD COUNT [--sm on|off] [--ack-every N] [--ack-after MS]
  [--outcome on|off]` and `strophe_acks HOST PORT JID PASSWORD COUNT [--sm on|off]`, against
  `--mode c2s --sm`: what per-stanza outcomes and stream-management acks cost on the send path
  (scenario 8; `bench/acks.sh`, doc/unattended.md)
- `bench/plots.gp`: the pictures, from the data file `report.py --plots DIR` writes

CI runs only `meson test --suite bench` (bench/smoke.sh): the receive, send and
return_to_sender programs, the SAX limit and `pcj_acks` (without stream management and with
each ack cadence) on N = 1,000, checking counts, never timings (the login and idle programs need a
server and are only built).

Peculiarities of the peers, worked around through their public APIs: libstrophe 0.12.2's
component mode dereferences a stream-management state that only `xmpp_connect_client()` creates,
so `strophe_recv` first calls `xmpp_connect_client()` with an empty JID (it fails at once, without
network, after creating the state); gloox 1.0.24 ignores the server's `</stream:stream>`, so its
source half-closes the socket after the stream end (`--half-close`); slixmpp's `message` event
fires only for messages with a body, so `slixmpp_recv.py` counts through a `StanzaPath('message')`
handler.

{('## Notes from this run' + chr(10) + chr(10) + notes) if notes else ''}

{analysis}

## Appendix: every run

{chr(10).join(raw)}
'''
    doc = re.sub(r'\n{3,}', '\n\n', doc)
    with open(args.doc, 'w') as f:
        f.write(doc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dso-split', nargs=2, metavar=('NAME', 'COUNT'))
    ap.add_argument('--results')
    ap.add_argument('--callgrind')
    ap.add_argument('--machine')
    ap.add_argument('--notes')
    ap.add_argument('--analysis')
    ap.add_argument('--doc')
    ap.add_argument('--plots', help='directory for the gnuplot data file and the SVG pictures')
    args = ap.parse_args()
    if args.dso_split:
        dso_split(*args.dso_split)
        return 0
    runs = read_results(args.results)
    s = {k: Summary(v) for k, v in runs.items()}
    m = read_kv(args.machine) if args.machine else {}
    tables = {'recv': recv_table(s), 'filters': filter_table(s), 'other': other_tables(s),
              'login': login_tables(s), 'idle': idle_table(s),
              'targets': targets(s), 'callgrind': callgrind_table(args.callgrind) if args.callgrind else ''}
    tables['pictures'] = ''
    if args.plots:
        data = plots.collect(s, med, login_ms, LOGIN_ORDER)
        done, problem = plots.draw(data, args.plots, os.path.dirname(os.path.abspath(__file__)))
        tables['pictures'] = plots.markdown(done, args.doc or '.', args.plots)
        print('drew %s in %s%s' % (', '.join(n + '.svg' for n, _ in done) or 'nothing', args.plots,
                                   '; ' + problem if problem else ''))
        if problem and args.notes:
            with open(args.notes, 'a') as f:
                f.write(problem + '\n')
    print('\n## Receive, %s stanzas, medians of %s rounds\n' % (m.get('counts', '?'), m.get('runs', '?')))
    for key in ('recv', 'callgrind', 'filters', 'other', 'login', 'idle', 'targets'):
        if tables[key]:
            print(tables[key] + '\n')
    if args.doc:
        write_doc(args, s, m, tables)
        print('wrote %s' % args.doc)
    return 0


if __name__ == '__main__':
    sys.exit(main())

# plots.py: the pictures of doc/benchmarks.md. report.py hands it the medians its tables are made
# of; it writes them as one gnuplot data file (one block per picture, named by its first comment
# line) and runs bench/plots.gp on it, which draws one SVG per block.
import os
import shutil
import subprocess

# The pictures, in the order the doc shows them: file name (without .svg), caption.
PICTURES = [
    ('recv', 'Receive rate per library (scenario 1)'),
    ('filters', 'Receive rate by number of XPath filters (scenario 2)'),
    ('send', 'Send rate: plain, with per-stanza outcomes, with XEP-0198 acks (scenarios 4 and 8)'),
    ('login', 'CPU per TLS login against Prosody (scenario 5)'),
    ('idle', 'RSS per idle logged-in TLS connection (scenario 6)'),
]


def _q(text):
    return '"%s"' % text.replace('"', "'")


def _num(x):
    return '-1' if x is None or x != x else '%.10g' % round(x, 3)


class Data:
    """The gnuplot data file: named blocks of rows, a quoted label first; -1 for a figure not
    measured (every figure is positive)."""

    def __init__(self):
        self.blocks = []

    def block(self, name, header, rows):
        if rows:
            lines = ['# %s: %s' % (name, header)]
            lines += [' '.join([_q(r[0])] + [_num(v) for v in r[1:]]) for r in rows]
            self.blocks.append((name, '\n'.join(lines)))

    def names(self):
        return [n for n, _ in self.blocks]

    def write(self, path):
        with open(path, 'w') as f:
            f.write('# bench/run.sh results, medians (written by bench/report.py, drawn by '
                    'bench/plots.gp)\n\n\n')
            f.write('\n\n\n'.join(text for _, text in self.blocks) + '\n')


def draw(data, outdir, here):
    """Writes outdir/benchmarks.dat and one SVG per block; returns [(name, caption)] drawn, and a
    note when gnuplot is missing or fails (the old pictures, if any, are then removed so that
    the doc never shows pictures of another run)."""
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, 'benchmarks.dat')
    data.write(path)
    wanted = [(n, c) for n, c in PICTURES if n in data.names()]
    for name, _ in PICTURES:
        svg = os.path.join(outdir, name + '.svg')
        if os.path.exists(svg):
            os.remove(svg)
    gnuplot = shutil.which('gnuplot')
    if not gnuplot:
        return [], 'gnuplot is not installed (Debian: gnuplot-nox): no pictures'
    done, failed = [], []
    for name, caption in wanted:
        svg = os.path.join(outdir, name + '.svg')
        r = subprocess.run([gnuplot, '-e', "data='%s'; out='%s'; picture='%s'" % (path, svg, name),
                            os.path.join(here, 'plots.gp')], capture_output=True, text=True)
        if r.returncode == 0 and os.path.exists(svg):
            done.append((name, caption))
        else:
            if os.path.exists(svg):
                os.remove(svg)
            failed.append('%s (%s)' % (name, r.stderr.strip().splitlines()[-1:] or '?'))
    return done, ('gnuplot failed to draw: ' + ', '.join(failed)) if failed else ''


def markdown(done, doc_path, outdir):
    """The doc's picture links, relative to the doc."""
    rel = os.path.relpath(outdir, os.path.dirname(os.path.abspath(doc_path)))
    return '\n\n'.join('![%s](%s/%s.svg)' % (c, rel, n) for n, c in done)


RECV_SHORT = [('libxml2-sax', 'libxml2 SAX (limit)'), ('pcj', 'pcj'), ('libstrophe', 'libstrophe'),
              ('gloox', 'gloox'), ('slixmpp', 'slixmpp')]
SEND_SHORT = [(('send', 'pcj'), 'component: output()'), (('sendack', 'plain'), 'client: output()'),
              (('sendack', 'outcome'), 'client: + outcome'),
              (('sendack', 'outcome+sm5'), 'client: + outcome + acks (every 5)'),
              (('sendack', 'outcome+sm50'), 'client: + outcome + acks (every 50)')]


def collect(s, med, login_ms, login_order):
    """The pictures' data from report.py's summaries (s: (scenario, variant) -> Summary)."""
    d = Data()
    d.block('recv', 'client, stanzas/s (wall), stanzas/s (by CPU)',
            [(label, s[('recv', v)].rate, s[('recv', v)].cpu_rate)
             for v, label in RECV_SHORT if ('recv', v) in s])
    base = s.get(('filters', '0'))
    d.block('filters', 'filters, stanzas/s, % of the no-filter rate (wall), (CPU), stanzas/s by CPU',
            [(v, x.rate, 100 * x.rate / base.rate if base else None,
              100 * base.cpu_us / x.cpu_us if base and x.cpu_us else None, x.cpu_rate)
             for v, x in ((v, s.get(('filters', v))) for v in ('0', '1', '10', '100', '1000')) if x])
    plain = s.get(('sendack', 'plain'))
    d.block('send', 'path, stanzas/s (sink), % of the client\'s plain output() (wall), stanzas/s '
            'by CPU, % (CPU)',
            [(label, s[k].rate, 100 * s[k].rate / plain.rate if plain and k[0] == 'sendack' else None,
              s[k].cpu_rate, 100 * plain.cpu_us / s[k].cpu_us
              if plain and k[0] == 'sendack' and s[k].cpu_us else None)
             for k, label in SEND_SHORT if k in s])
    rows = []
    for v in login_order:
        xs = [s.get((p, v)) for p in ('login-SCRAM-SHA-1', 'login-PLAIN', 'login-reconnect')]
        if any(xs):
            rows.append((v, login_ms(xs[0], 'mean'), login_ms(xs[1], 'mean'),
                         login_ms(xs[2], 'cpu_rest_ms')))
    d.block('login', 'client, CPU ms per login: SCRAM-SHA-1, PLAIN, reconnect (stable salt)', rows)
    keys = sorted((k for k in s if k[0] == 'idle'),
                  key=lambda k: (not k[1].startswith('pcj'), int(k[1].split(', ')[-1])))
    d.block('idle', 'client and connections, RSS KB per connection, heap KB per connection',
            [(k[1] + ' connections', float(s[k].runs[0]['extra'].get('rss_per_conn_kb', 'nan')),
              float(s[k].runs[0]['extra'].get('heap_per_conn_kb', 'nan'))) for k in keys])
    return d

# report_callgrind.py: the instructions-per-stanza part of bench/run.sh's report — splits
# callgrind_annotate's output by shared object (one line of the callgrind TSV per run), and turns
# two runs of each client (two stanza counts) into the marginal cost per stanza.
import re
import sys


def fmt_rate(x):
    return '{:,.0f}'.format(x)


def dso_split(name, count):
    """Sums callgrind_annotate's per-function self cost by shared object."""
    total = 0
    by_dso = {}
    for line in sys.stdin:
        m = re.match(r'\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+PROGRAM TOTALS', line)
        if m:
            total = int(m.group(1).replace(',', ''))
            continue
        m = re.match(r'\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+\S.*\[(.+?)\]\s*$', line)
        if m:
            dso = m.group(2).rsplit('/', 1)[-1]
            dso = re.sub(r'\.so[.\d]*$', '', dso)
            by_dso[dso] = by_dso.get(dso, 0) + int(m.group(1).replace(',', ''))
    parts = ';'.join('%s=%d' % kv for kv in sorted(by_dso.items(), key=lambda kv: -kv[1]))
    print('%s\t%s\t%d\t%s' % (name, count, total, parts))


def callgrind_table(path):
    runs = {}
    try:
        with open(path) as f:
            for line in f:
                cols = line.rstrip('\n').split('\t')
                if len(cols) == 4 and cols[2].isdigit():
                    dsos = dict((k, int(v)) for k, v in (p.split('=') for p in cols[3].split(';') if p))
                    runs.setdefault(cols[0], []).append((int(cols[1]), int(cols[2]), dsos))
    except OSError:
        return ''
    rows = ['| client | instructions per stanza | of which libxml2 / expat | libc (malloc, free, '
            'memcpy…) | libstdc++ | the library itself | other libraries |',
            '|---|---:|---:|---:|---:|---:|---:|']
    per = {}
    for name in ('libxml2-sax', 'pcj', 'libstrophe'):
        pts = sorted(runs.get(name, []))
        if len(pts) < 2:
            continue
        (n1, t1, d1), (n2, t2, d2) = pts[0], pts[-1]
        dn = n2 - n1
        total = (t2 - t1) / dn
        per[name] = total

        def part(*keys):
            return sum(d2.get(k, 0) - d1.get(k, 0) for k in keys) / dn
        parser = part('libxml2', 'libexpat')
        libc = part('libc')
        cxx = part('libstdc++')
        own = part('libpcj', 'libstrophe', 'sax_limit', 'pcj_recv', 'strophe_recv')
        rows.append('| %s | %s | %s | %s | %s | %s | %s |' % (
            name, fmt_rate(total), fmt_rate(parser), fmt_rate(libc), fmt_rate(cxx), fmt_rate(own),
            fmt_rate(total - parser - libc - cxx - own)))
    if len(rows) == 2:
        return ''
    text = '\n'.join(rows)
    if 'pcj' in per and 'libxml2-sax' in per:
        text += ('\n\npcj executes %.2f× the instructions of the bare SAX parser per stanza '
                 '(%.0f %% of the limit by this measure)' % (per['pcj'] / per['libxml2-sax'],
                                                             100 * per['libxml2-sax'] / per['pcj']))
        if 'libstrophe' in per:
            text += ', and libstrophe %.2f× those of pcj' % (per['libstrophe'] / per['pcj'])
        text += '.'
    return text

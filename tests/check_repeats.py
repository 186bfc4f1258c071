"""Fails when a run of 6 or more significant lines appears twice under include/ (usage: check_repeats.py DIR).

Lines that are boilerplate on their own (braces, includes, namespace lines, access labels,
short returns) do not count towards a run, so only repeated logic is reported.
"""
import collections
import pathlib
import re
import sys

RUN = 6
TRIVIAL = re.compile(r'^(\{|\}|\};|\}\)|\);|public:|private:|protected:|#include .*|#pragma once|namespace .*'
                     r'|\}  // namespace.*|#endif|#else|break;|default: break;|return .{0,12};'
                     r'|template <class [A-Z]\w*>|// -+)$')

root = pathlib.Path(sys.argv[1])
runs = collections.defaultdict(list)
for path in sorted(root.rglob('*.hpp')):
    significant = [(n, line.strip()) for n, line in enumerate(path.read_text().splitlines(), 1)
                   if line.strip() and not TRIVIAL.match(line.strip())]
    for k in range(len(significant) - RUN + 1):
        key = tuple(text for _, text in significant[k:k + RUN])
        runs[key].append((path.relative_to(root), significant[k][0], significant[k + RUN - 1][0]))

found = set()
for places in runs.values():
    if len(places) < 2:
        continue
    (fa, a0, a1), (fb, b0, b1) = places[0], places[1]
    if fa == fb and b0 <= a1:
        continue  # one run overlapping itself (a repeated line), not a copy
    found.add(f'{fa}:{a0}-{a1} repeats at {fb}:{b0}-{b1}')
for line in sorted(found):
    print(line)
sys.exit(1 if found else 0)

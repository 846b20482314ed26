"""Summaries of a search archive: top-k, counts, rates and time by stage.

:func:`analyze` reads ``search.sqlite`` into a JSON-able dict;
:func:`format_analysis` renders it as plain-text tables
(tools/analyze_search.py).

Definitions (every candidate except the baseline counts as *generated*; a
rejected row is one drawn tree: the whole individual's in a one-branch
search, the failing branch's in a multi-branch one):

* rejection rate = rejected / generated;
* equivalence rate = equivalent / (generated - rejected), the share of
  candidates that passed the rejection protocol whose score was reused from a
  gradient-equivalent twin instead of being trained;
* time by stage: the sums of ``t_reject`` (screening, stored on the candidate
  that passed, covering its rejected re-draws) and ``t_train`` (proxy
  training) per status.
"""
import json
import math
from typing import Dict, List, Optional, Sequence

from prettytable import PrettyTable

from ...graph import Tree, formula
from ..archive import STATUSES, Archive


def _rate(num: int, den: int) -> Optional[float]:
    return num / den if den else None


def analyze(archive: Archive, k: int = 5, mode: str = 'max',
            formulas: bool = True) -> Dict:
    """Statistics of ``archive``.

    Args:
        archive: the search archive.
        k: rows of the top-k table.
        mode: ``'max'`` or ``'min'``, the search's target mode.
        formulas: add each top-k tree's simplified formula (sympy).

    Returns:
        dict with ``counts`` (as :meth:`Archive.counts`), ``generated``,
        ``rejection_rate``, ``equivalence_rate``, ``baseline``, ``top``
        (id, score, trees, formulas), ``time`` ({status: {t_reject,
        t_train, n}}) and ``total_time``.
    """
    if mode not in ('max', 'min'):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    counts = archive.counts()
    generated = sum(counts.values()) - counts['baseline']
    passed = generated - counts['rejected']
    base = archive.baseline()
    top = []
    for row in archive.best(k, mode):
        trees = json.loads(row['trees'])
        entry = dict(id=row['id'], score=row['score'], trees=trees)
        if formulas:
            entry['formulas'] = {b: formula(Tree.parse(t))
                                 for b, t in trees.items()}
        top.append(entry)
    time_by_status = archive.time_by_status()
    total = sum(v['t_reject'] + v['t_train'] for v in time_by_status.values())
    return dict(
        counts=counts, generated=generated,
        rejection_rate=_rate(counts['rejected'], generated),
        equivalence_rate=_rate(counts['equivalent'], passed),
        baseline=base['score'] if base else None, top=top,
        time={s: time_by_status[s] for s in STATUSES if s in time_by_status},
        total_time=total)


def _table(headers: Sequence[str], rows: List[Sequence]) -> str:
    """A left-aligned ASCII table (prettytable)."""
    table = PrettyTable([str(h) for h in headers])
    table.align = 'l'
    table.add_rows([[str(c) for c in row] for row in rows])
    return table.get_string()


def _num(value, fmt='.4g') -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(
            value)):
        return 'n/a'
    return format(value, fmt)


def format_analysis(summary: Dict) -> str:
    """Plain-text tables of an :func:`analyze` summary."""
    parts = []
    rows = []
    for rank, entry in enumerate(summary['top'], 1):
        for i, (branch, tree) in enumerate(entry['trees'].items()):
            shown = entry.get('formulas', {}).get(branch, tree)
            rows.append([rank if i == 0 else '', entry['id'] if i == 0 else
                         '', _num(entry['score']) if i == 0 else '', branch,
                         shown])
    parts.append('top losses (baseline score: '
                 f'{_num(summary["baseline"])})\n'
                 + _table(['rank', 'id', 'score', 'branch', 'formula'], rows))
    counts = summary['counts']
    parts.append('candidates by status\n' + _table(
        ['status', 'count'],
        [[s, n] for s, n in counts.items()] +
        [['generated', summary['generated']]]))
    parts.append('rates\n' + _table(['rate', 'value'], [
        ['rejection (rejected / generated)',
         _num(summary['rejection_rate'], '.1%')],
        ['equivalence (equivalent / passed rejection)',
         _num(summary['equivalence_rate'], '.1%')]]))
    rows = [[s, v['n'], _num(v['t_reject'], '.1f'), _num(v['t_train'], '.1f')]
            for s, v in summary['time'].items()]
    times = summary['time'].values()
    rows.append(['total', sum(v['n'] for v in times),
                 _num(sum(v['t_reject'] for v in times), '.1f'),
                 _num(sum(v['t_train'] for v in times), '.1f')])
    total = _num(summary['total_time'], '.1f')
    parts.append(f'time by stage (seconds; {total} in all)\n' + _table(
        ['status', 'n', 't_reject', 't_train'], rows))
    return '\n\n'.join(parts)

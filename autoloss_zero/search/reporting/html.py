"""``<work_dir>/report.html``: a finished search as one page to look at.

Self-contained (every image is a base64 PNG data URI, no script, no network):
the summary lines, the counts by status, the progress plot, the multi-seed
verdict (plot and lines, when there is one), and per top-k loss its
formulas rendered by matplotlib's mathtext, its loss and gradient curves
against cross-entropy (:func:`~.loss_curves.plot_losses`) and the command
that retrains it.
"""
import base64
import html
import io
import json
import math
import re
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

from ...graph import Tree, formula, to_latex
from ..loop.fidelity import budget_spent
from .loss_curves import load_losses, plot_losses
from .progress import budget_text

#: the reference loss of the curves: cross-entropy, as a tree.
CE_TREE = 'neg(mul(y,log(yhat)))'
#: LaTeX longer than this is shown as text (mathtext draws one line).
MAX_LATEX = 400
STYLE = """
body { font-family: sans-serif; max-width: 1150px; margin: 2em auto;
       color: #222; line-height: 1.4; }
h1 { border-bottom: 2px solid #3366aa; padding-bottom: .2em; }
h2 { color: #3366aa; margin-top: 1.6em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #bbb; padding: .25em .8em; text-align: right; }
th { background: #eef2f8; }
pre, code { background: #f4f4f4; }
pre { padding: .6em; white-space: pre-wrap; }
img { max-width: 100%; }
article { border-top: 1px solid #ddd; margin-top: 1.2em; }
.formula { margin: .4em 0; }
.note { color: #777; }
"""


def png_data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,...`` URI of PNG bytes."""
    return 'data:image/png;base64,' + base64.b64encode(png).decode('ascii')


def mathtext_latex(latex: str) -> str:
    """sympy's LaTeX made digestible for matplotlib's mathtext
    (``\\operatorname`` -> ``\\mathrm``, ``\\texttt`` -> ``\\mathtt``)."""
    latex = re.sub(r'\\operatorname\{', r'\\mathrm{', latex)
    return re.sub(r'\\texttt\{', r'\\mathtt{', latex)


def render_formula(tree: Tree) -> Optional[bytes]:
    """PNG of the tree's simplified formula, or None when mathtext cannot
    draw its LaTeX (the caller shows the plain formula)."""
    from matplotlib import mathtext
    latex = mathtext_latex(to_latex(tree))
    if len(latex) > MAX_LATEX:
        return None
    out = io.BytesIO()
    try:
        mathtext.math_to_image(f'${latex}$', out, dpi=150, format='png')
    except Exception:  # noqa: BLE001  (mathtext's parse errors vary)
        return None
    return out.getvalue()


def loss_curves(tree: str, label: str) -> List[bytes]:
    """PNGs of the loss and gradient curves of ``tree`` against
    cross-entropy (empty when the tree has leaves the curves cannot set)."""
    losses = load_losses(tree)
    losses = {label: losses['loss'], 'CE': load_losses(CE_TREE)['loss']}
    with tempfile.TemporaryDirectory() as tmp:
        return [Path(p).read_bytes()
                for p in plot_losses(losses, tmp, 'curves')]


def _e(value) -> str:
    return html.escape(str(value))


def _fmt(value) -> str:
    return 'n/a' if value is None or not math.isfinite(value) else \
        f'{value:.4g}'


def _image(path: Path, alt: str) -> str:
    return (f'<img src="{png_data_uri(path.read_bytes())}" alt="{_e(alt)}">'
            if path.is_file() else f'<p class="note">({_e(path.name)} '
            f'missing)</p>')


def counts_table(counts: Dict[str, int], trainings,
                 budget: int) -> str:
    """The counts by status as an HTML table."""
    rows = ''.join(f'<tr><th>{_e(status)}</th><td>{n}</td></tr>'
                   for status, n in counts.items())
    return (f'<table id="counts-table">{rows}</table><p>{trainings} proxy '
            f'trainings of a budget of {budget} (equivalent candidates '
            f'reuse a score and train nothing).</p>')


def loss_article(rank: int, row: Dict, trees: Dict[str, str], metric: str,
                 base_score: Optional[float], verdict_line: Optional[str],
                 snippet: Path) -> str:
    """One top-k loss: score, verdict, formulas, curves, retrain command."""
    score = row['score']
    head = f'#{rank}: candidate {row["id"]}, proxy {metric} {_fmt(score)}'
    if row.get('rung') is not None:
        head += f' (rung {row["rung"]})'
    if score is not None and base_score is not None:
        head += f' ({score - base_score:+.4g} vs baseline {_fmt(base_score)})'
    parts = [f'<article id="top{rank}"><h3>{_e(head)}</h3>']
    if verdict_line:
        parts.append(f'<p class="verdict">verdict: {_e(verdict_line)}</p>')
    for branch, text in trees.items():
        tree = Tree.parse(text)
        parts.append(f'<h4>{_e(branch)}</h4><p><code>{_e(text)}</code></p>')
        png = render_formula(tree)
        parts.append(
            f'<div class="formula"><img src="{png_data_uri(png)}" '
            f'alt="{_e(formula(tree))}"></div>' if png is not None else
            f'<div class="formula"><code>= {_e(formula(tree))}</code></div>')
        try:
            curves = loss_curves(text, f'top{rank} {branch}')
        except Exception as exc:  # noqa: BLE001  e.g. leaves besides yhat, y
            parts.append(f'<p class="note">no curves: {_e(exc)}</p>')
        else:
            parts.append('<div class="curves">' + ''.join(
                f'<img src="{png_data_uri(png)}" alt="loss and gradient '
                f'of top{rank} {_e(branch)} against CE">'
                for png in curves) + '</div>')
    parts.append(f'<p>Retrain it (CONFIG: a full training config with the '
                 f'same loss slots):</p><pre class="command">python '
                 f'tools/train.py CONFIG --loss {_e(snippet)}</pre>'
                 f'</article>')
    return ''.join(parts)


def write_html_report(work_dir, archive, settings, best: List[Dict],
                      verdicts: Dict, summary_lines: List[str]) -> Path:
    """Write ``<work_dir>/report.html``; returns its path.

    Args:
        work_dir: the search's work dir (``progress.png``, ``verdict.png``,
            ``best/top<k>.py`` already written there).
        archive: the search archive (counts, baseline).
        settings: the search settings (target, budget).
        best: the ranked top-k rows (``id``, ``score``, ``trees`` JSON).
        verdicts: {candidate id: ``PairedComparison``} (may be empty).
        summary_lines: the summary as logged.
    """
    work_dir = Path(work_dir)
    metric = settings.target.metric
    base = archive.baseline()
    base_score = base['score'] if base else None
    sections = [
        f'<header><h1>AutoLoss-Zero search: {_e(work_dir.name)}</h1><p>'
        f'target {_e(metric)} ({_e(settings.target.mode)}), work dir '
        f'<code>{_e(work_dir)}</code>, written '
        f'{time.strftime("%Y-%m-%d %H:%M:%S")}</p></header>',
        '<section id="summary"><h2>Summary</h2><pre>'
        + _e('\n'.join(summary_lines)) + '</pre></section>',
        '<section id="counts"><h2>Candidates</h2>' + counts_table(
            archive.counts(), budget_text(budget_spent(archive, settings)),
            settings.evaluations)
        + '</section>',
        '<section id="progress"><h2>Progress</h2>'
        + _image(work_dir / 'progress.png', 'search progress')
        + '</section>',
    ]
    if verdicts:
        lines = ''.join(f'<li>#{cand_id}: {_e(v.line(metric))}</li>'
                        for cand_id, v in verdicts.items())
        sections.append('<section id="verdict"><h2>Multi-seed verdict</h2>'
                        + _image(work_dir / 'verdict.png', 'verdict')
                        + f'<ul>{lines}</ul></section>')
    articles = [
        loss_article(rank, row, json.loads(row['trees']), metric, base_score,
                     verdicts[row['id']].line(metric)
                     if row['id'] in verdicts else None,
                     work_dir / 'best' / f'top{rank}.py')
        for rank, row in enumerate(best, 1)]
    sections.append(
        f'<section id="losses"><h2>Top-{len(best)} losses</h2><p>Curves: '
        f'each loss and its gradient against the probability p_t of the '
        f'true class (2 and C classes), then for two classes with y = 0 and '
        f'y = 1, next to cross-entropy <code>{CE_TREE}</code>.</p>'
        + (''.join(articles) or '<p>no trained candidate</p>')
        + '</section>')
    page = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<title>AutoLoss-Zero search: {_e(work_dir.name)}</title>'
            f'<style>{STYLE}</style></head><body>\n'
            + '\n'.join(sections) + '\n</body></html>\n')
    path = work_dir / 'report.html'
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(page, encoding='utf-8')
    tmp.replace(path)
    return path


__all__ = ['write_html_report', 'render_formula', 'loss_curves',
           'mathtext_latex', 'png_data_uri', 'CE_TREE']

"""report.html: a parseable page with its sections, every image a PNG data
URI, formulas rendered (or shown as text), written by every report."""
import base64
import json
import logging
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

from mmengine.config import Config

from autoloss_zero.graph import Tree
from autoloss_zero.search import Archive
from autoloss_zero.search.loop.settings import SearchSettings
from autoloss_zero.search.reporting import plot_progress, write_report
from autoloss_zero.search.reporting.html import (mathtext_latex,
                                                 render_formula,
                                                 write_html_report)
from autoloss_zero.search.verdict import compare

from ..conftest import REPO

PNG = b'\x89PNG\r\n\x1a\n'
CE = 'neg(mul(y,log(yhat)))'
TREES = [CE, 'add(neg(mul(y,log(yhat))),square(sub(y,yhat)))',
         'mul(y,sub(1,yhat))']


class Page(HTMLParser):
    """The ids, headings, images and <pre> texts of a page, checking that
    every opened element closes."""

    VOID = {'meta', 'img', 'br', 'hr', 'link', 'input'}

    def __init__(self, text):
        super().__init__()
        self.ids, self.images, self.pres, self.stack = [], [], [], []
        self.tags = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if 'id' in attrs:
            self.ids.append(attrs['id'])
        if tag == 'img':
            self.images.append(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == 'pre':
            self.pres.append('')

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, tag

    def handle_data(self, data):
        if self.stack and self.stack[-1] == 'pre':
            self.pres[-1] += data


def archive_with_rows(path, scores=(72.5, 69.0, 71.0)):
    archive = Archive(path)
    archive.add([dict(key='baseline', trees='{}', status='baseline',
                      score=70.0, finished=1.0)])
    archive.add([dict(key='r', trees=json.dumps(dict(seg='log(yhat)')),
                      status='rejected')])
    archive.add([dict(key=f'seg={t}', trees=json.dumps(dict(seg=t)),
                      status='trained', score=s, finished=2.0 + i)
                 for i, (t, s) in enumerate(zip(TREES, scores))])
    return archive


def decoded_pngs(page):
    pngs = []
    for image in page.images:
        src = image['src']
        assert src.startswith('data:image/png;base64,'), src[:40]
        png = base64.b64decode(src.split(',', 1)[1], validate=True)
        assert png.startswith(PNG)
        pngs.append(png)
    return pngs


def test_mathtext_renders_sympy_latex_or_gives_up():
    assert mathtext_latex(r'\operatorname{mean}_{hw}{\left(y\right)}') == \
        r'\mathrm{mean}_{hw}{\left(y\right)}'
    for tree in TREES + ['mean_hw(softplus(yhat))']:
        assert render_formula(Tree.parse(tree)).startswith(PNG), tree


def test_report_sections_images_and_commands(tmp_path):
    archive = archive_with_rows(tmp_path / 'search.sqlite')
    settings = SimpleNamespace(target=SimpleNamespace(metric='mIoU',
                                                      mode='max'),
                               evaluations=4)
    plot_progress(archive, settings, tmp_path / 'progress.png')
    (tmp_path / 'verdict.png').write_bytes(
        (tmp_path / 'progress.png').read_bytes())
    best = archive.best(2, 'max')
    verdicts = {best[0]['id']: compare([72.0, 72.4, 71.9],
                                       [70.1, 70.0, 70.3])}
    path = write_html_report(tmp_path, archive, settings, best, verdicts,
                             ['search finished: 4 candidates', 'best ...'])
    assert path == tmp_path / 'report.html'
    page = Page(path.read_text(encoding='utf-8'))
    assert page.stack == []
    for section in ('summary', 'counts', 'counts-table', 'progress',
                    'verdict', 'losses', 'top1', 'top2'):
        assert section in page.ids, section
    assert 'top3' not in page.ids
    assert 'script' not in page.tags and 'link' not in page.tags
    # progress + verdict + per loss one formula and two curve figures
    assert len(decoded_pngs(page)) == 2 + 2 * 3
    assert page.pres[0] == 'search finished: 4 candidates\nbest ...'
    commands = [p for p in page.pres if p.startswith('python tools/train')]
    assert commands == [
        f'python tools/train.py CONFIG --loss {tmp_path}/best/top{k}.py'
        for k in (1, 2)]
    text = path.read_text(encoding='utf-8')
    assert f'candidate {best[0]["id"]}, proxy mIoU 72.5 (+2.5 vs baseline ' \
        '70)' in text
    assert 'verdict: mIoU 72.1' in text
    assert '<td>3</td>' in text  # trained


def test_unplottable_and_unrenderable_losses_fall_back(tmp_path, monkeypatch):
    from autoloss_zero.search.reporting import html
    monkeypatch.setattr(html, 'to_latex', lambda tree: r'\begin{cases}')
    archive = Archive(tmp_path / 'search.sqlite')
    archive.add([dict(key='k', trees=json.dumps(dict(bbox='mul(iou,y)')),
                      status='trained', score=0.5)])
    settings = SimpleNamespace(target=SimpleNamespace(metric='mAP',
                                                      mode='max'),
                               evaluations=1)
    path = write_html_report(tmp_path, archive, settings,
                             archive.best(1), {}, ['done'])
    page = Page(path.read_text())
    assert 'verdict' not in page.ids and 'top1' in page.ids
    assert page.images == []  # no progress.png, formula as text, no curves
    text = path.read_text()
    assert '(progress.png missing)' in text
    assert '<code>= iou*y</code>' in text or '<code>= y*iou</code>' in text
    assert 'no curves:' in text and 'iou' in text


def test_write_report_writes_the_page_and_names_it(tmp_path):
    cfg = Config.fromfile(str(REPO / 'configs' / 'demo' / 'voc_miou.py'))
    cfg.merge_from_dict({'search.top_k': 2})
    settings = SearchSettings.from_config(cfg)
    archive = archive_with_rows(tmp_path / 'search.sqlite')
    summary = write_report(archive, settings, tmp_path,
                           logging.getLogger('test_html_report'), cfg)
    report = tmp_path / 'report.html'
    assert summary['text'].splitlines()[-1].startswith('outputs: ')
    assert str(report) in summary['text'].splitlines()[-1]
    page = Page(report.read_text(encoding='utf-8'))
    assert {'top1', 'top2', 'progress'} <= set(page.ids)
    assert len(decoded_pngs(page)) == 1 + 2 * 3
    assert all(Path(tmp_path / 'best' / f'top{k}.py').is_file()
               for k in (1, 2))


def test_a_failing_page_does_not_fail_the_report(tmp_path, monkeypatch,
                                                   caplog):
    from autoloss_zero.search.reporting import summary as summary_module

    def broken(*args):
        raise OSError('disk full')

    monkeypatch.setattr(summary_module, 'write_html_report', broken)
    cfg = Config.fromfile(str(REPO / 'configs' / 'demo' / 'voc_miou.py'))
    settings = SearchSettings.from_config(cfg)
    archive = archive_with_rows(tmp_path / 'search.sqlite')
    logger = logging.getLogger('test_html_report_broken')
    with caplog.at_level(logging.WARNING, logger=logger.name):
        summary = write_report(archive, settings, tmp_path, logger, cfg)
    assert 'report.html not written' in caplog.text
    assert 'report.html' not in summary['text']
    assert not (tmp_path / 'report.html').exists()


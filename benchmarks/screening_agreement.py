"""Decision agreement of the screening's pre-tests with the paper's protocol.

The same fixed random trees of every branch (demo segmentation capture, and
the Faster R-CNN, Mask R-CNN mask and pose heatmap captures on generated
COCO data) are screened with ``search.rejection.exact=True`` (the paper's
protocol: static exact pre-filter and lockstep batches only) and with the
default (plus the pre-tests: no target leaf, no gain after the first
steps, stalled gain, and the stability pre-test). Printed per branch: pass
rate, false rejects (trees the protocol accepts and a cheaper pre-test
rejects) among the accepted trees, the accepted trees the stability
pre-test rejects (by design: their gradient explodes toward the target;
its cost in healthy candidates is measured by
``benchmarks/diverged_fraction.py``), false accepts (must be 0), and the
decisions of the first ``--reference`` trees under the one-tree-at-a-time
reference loop, which must equal the exact path's:

    python benchmarks/screening_agreement.py [--trees 5000] [--reference 200]
        [--settings seg faster mask pose]
"""
import argparse
import dataclasses
import time

import torch
from _captures import SETTINGS, add_capture_arguments, build, random_trees


def _agree(rejection, branch, trees, reference):
    from autoloss_zero.search.screening.reference import screen_reference
    base = rejection.settings
    rejection.settings = dataclasses.replace(base, exact=True)
    start = time.perf_counter()
    exact = rejection.screen_batch([(branch, t) for t in trees])
    t_exact = time.perf_counter() - start
    rejection.settings = dataclasses.replace(base, exact=False)
    start = time.perf_counter()
    default = rejection.screen_batch([(branch, t) for t in trees])
    t_default = time.perf_counter() - start
    rejection.settings = base
    ref = [screen_reference(rejection, branch, t) for t in trees[:reference]]
    accepted = sum(s.passed for s in exact)
    rejected = [(t, d.reason) for t, e, d in zip(trees, exact, default)
                if e.passed and not d.passed]
    unstable = [r for r in rejected if 'stability pre-test' in r[1]]
    false_rejects = [r for r in rejected if r not in unstable]
    false_accepts = sum(d.passed and not e.passed
                        for e, d in zip(exact, default))
    ref_diff = sum((r.passed, r.gains, r.fingerprint) !=
                   (e.passed, e.gains, e.fingerprint)
                   for r, e in zip(ref, exact) if not _static(e))
    ref_decisions = sum(r.passed != e.passed for r, e in zip(ref, exact))
    return dict(accepted=accepted, false_rejects=false_rejects,
                unstable=unstable,
                false_accepts=false_accepts, ref_diff=ref_diff,
                ref_decisions=ref_decisions, t_exact=t_exact,
                t_default=t_default)


def _static(screening):
    return 'static pre-filter' in (screening.reason or '')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--trees', type=int, default=5000)
    parser.add_argument('--reference', type=int, default=200,
                        help='trees also screened by the reference loop')
    add_capture_arguments(parser)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f'{args.trees} random trees per branch (seed {args.seed}), '
          f'first {args.reference} also by the reference loop')
    print(f'{"branch":9s} {"accepted":>9s} {"false rej":>10s} '
          f'{"rate":>6s} {"unstable":>8s} {"false acc":>9s} '
          f'{"ref diff":>8s} {"exact/min":>9s} {"default/min":>11s}')
    for setting in args.settings:
        rejection, settings = build(setting)
        for branch in SETTINGS[setting][1]:
            trees = random_trees(settings, branch, args.trees, args.seed)
            r = _agree(rejection, branch, trees, args.reference)
            rate = (len(r['false_rejects']) / r['accepted']
                    if r['accepted'] else float('nan'))
            print(f'{branch:9s} {r["accepted"]:9d} '
                  f'{len(r["false_rejects"]):10d} {rate:6.1%} '
                  f'{len(r["unstable"]):8d} '
                  f'{r["false_accepts"]:9d} {r["ref_decisions"]:4d}/'
                  f'{r["ref_diff"]:<3d} '
                  f'{args.trees / r["t_exact"] * 60:9.0f} '
                  f'{args.trees / r["t_default"] * 60:11.0f}', flush=True)
            for tree, reason in r['false_rejects']:
                print(f'    false reject {tree}: {reason}')
            for tree, reason in r['unstable']:
                print(f'    unstable {tree}: {reason}')
    print('ref diff: decisions / (gains, fingerprints) that differ between '
          'the reference loop and the exact path (static rejections: '
          'decisions only)')


if __name__ == '__main__':
    main()

# AutoLoss-Zero search for mIoU on the generated VOC data (2-core CPU demo).
_base_ = [
    './deeplabv3plus_r18_demo-voc.py', '../_base_/search/seg_branch.py'
]
val_evaluator = dict(type='DenseSegMetric', seg_metrics=['mIoU'])
search = dict(
    evolution=dict(population=8),
    # Screening is compute-bound: one process per core (1 thread each).
    rejection=dict(workers=2),
    # 120 steps of 16 crops (~21 s on one thread): README, "The demo proxies"
    proxy=dict(max_iters=120),
    # 16 trainings, then the top 2 and the baseline on 3 seeds (9 more):
    # ~10 minutes on 2 cores
    budget=dict(evaluations=16),
    verdict=dict(top_k=2))

# AutoLoss-Zero search for mIoU on the generated VOC data (2-core CPU demo).
_base_ = ['./deeplabv3plus_r18_demo-voc.py']
val_evaluator = dict(type='DenseSegMetric', seg_metrics=['mIoU'])
search = dict(
    target=dict(metric='mIoU', mode='max'),
    branches=dict(
        seg=dict(
            type='SearchedSegLoss',
            paths=[
                'model.decode_head.loss_decode',
                'model.auxiliary_head.loss_decode'
            ])),
    space=dict(max_nodes=31, max_depth=8, init_depth=3),
    evolution=dict(population=8, tournament=0.05, window=2500),
    # Screening is compute-bound: one process per core (1 thread each).
    rejection=dict(samples=5, eta=0.6, steps=100, lr=0.1, workers=2),
    proxy=dict(max_iters=200),
    budget=dict(evaluations=20),
    executor=dict(type='local'),
    top_k=5,
    seed=0)

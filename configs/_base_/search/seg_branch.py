# The segmentation searches' branch: one tree for the decode and auxiliary
# heads (each keeps its loss weight), with the paper's settings (paper.py).
# Configs set the target metric, the proxy length and the budget.
_base_ = ['./paper.py']
search = dict(
    target=dict(metric='mIoU', mode='max'),
    branches=dict(
        seg=dict(
            type='SearchedSegLoss',
            paths=[
                'model.decode_head.loss_decode',
                'model.auxiliary_head.loss_decode'
            ])))

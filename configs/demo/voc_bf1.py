# AutoLoss-Zero search for BF1 on the generated VOC data (2-core CPU demo).
_base_ = './voc_miou.py'
val_evaluator = dict(seg_metrics=['BF1'])
test_evaluator = val_evaluator
search = dict(target=dict(metric='BF1'))

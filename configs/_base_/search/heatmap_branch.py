# The pose searches' branch: the heatmap loss of a top-down heatmap head,
# with the paper's settings (paper.py). Its rejection metric (PCK of the
# heatmap argmax) starts near 0 at random init, so the paper's eta = 0.6
# separates MSE (gain ~0.9) from losses that ignore the target (gain ~0).
# Configs set the proxy length and the budget.
_base_ = ['./paper.py']
search = dict(
    target=dict(metric='coco/AP', mode='max'),
    branches=dict(
        heatmap=dict(type='SearchedHeatmapLoss', paths=['model.head.loss'],
                     eta=0.6)))

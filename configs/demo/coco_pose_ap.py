# AutoLoss-Zero search for keypoint AP with the tiny top-down heatmap model on
# the generated COCO keypoints: the 2-core CPU demo of configs/coco_pose_ap.py.
#
#   python tools/make_demo_data.py --kind coco
#   python tools/search.py configs/demo/coco_pose_ap.py
#
# One branch, the heatmap loss; the paper's eta = 0.6 separates MSE (PCK
# gain ~0.9 on the captured random-init heatmaps) from trees that ignore the
# target (gain ~0).
_base_ = ['./td-hm_r18_demo-coco.py']
search = dict(
    target=dict(metric='coco/AP', mode='max'),
    branches=dict(
        heatmap=dict(type='SearchedHeatmapLoss', paths=['model.head.loss'],
                     eta=0.6)),
    space=dict(max_nodes=31, max_depth=8, init_depth=3),
    evolution=dict(population=4, tournament=0.05, window=2500),
    rejection=dict(samples=5, eta=0.6, steps=100, lr=0.1),
    proxy=dict(max_iters=100),
    budget=dict(evaluations=10),
    executor=dict(type='local'),
    top_k=5,
    seed=0)

# AutoLoss-Zero search for keypoint AP with the tiny top-down heatmap model on
# the generated COCO keypoints: the 2-core CPU demo of configs/coco_pose_ap.py.
#
#   python tools/make_demo_data.py --kind coco
#   python tools/search.py configs/demo/coco_pose_ap.py
#
# One branch, the heatmap loss, with the paper's eta = 0.6: see
# configs/_base_/search/heatmap_branch.py.
_base_ = ['./td-hm_r18_demo-coco.py', '../_base_/search/heatmap_branch.py']
search = dict(
    evolution=dict(population=4),
    # 250 steps of the 32-channel ResNet-18 (~30 s on one thread, as 100
    # steps of the 64-channel one, which left keypoint AP at ~0.003):
    # README, "The demo proxies"
    proxy=dict(max_iters=250),
    budget=dict(evaluations=10))

# The Faster R-CNN demo search with a proxy long enough to learn: 400
# iterations instead of 100. On one CPU thread a proxy training takes
# ~105 s instead of ~28 s and its baseline reaches box mAP ~0.17 instead of
# ~0.03 (README, "The demo proxies"), so the search's 10 evaluations and
# the verdict's 12 re-trainings take ~40 min instead of ~10.
#
#   python tools/make_demo_data.py --kind coco
#   python tools/search.py configs/demo/coco_faster_rcnn_map_learning.py
_base_ = ['./coco_faster_rcnn_map.py']
search = dict(proxy=dict(max_iters=400))

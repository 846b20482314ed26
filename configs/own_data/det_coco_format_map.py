# Bring your own data: a box-mAP search on a detection set of your own
# categories in COCO format, read by mmdet's CocoDataset:
#
#   data/my_det/annotations/train.json   COCO json: images, annotations
#   data/my_det/annotations/val.json     (bbox [x, y, w, h], category_id),
#                                        categories with your names
#   data/my_det/train/*.jpg, data/my_det/val/*.jpg
#
#   autoloss-search configs/own_data/det_coco_format_map.py
#
# metainfo.classes names the categories to train, matched by name against the
# json's "categories". List them in the json's order: mmdet numbers the
# labels in that order, whatever the order here. The search, proxy model
# (tiny Faster R-CNN) and schedule are the demo's
# (configs/demo/coco_faster_rcnn_map.py); copy this file and change the data
# root, the file names and the classes.
_base_ = ['../demo/coco_faster_rcnn_map.py']
data_root = 'data/my_det/'
metainfo = dict(classes=('scratch', 'dent'))
train_dataloader = dict(dataset=dict(
    data_root=data_root, metainfo=metainfo,
    ann_file='annotations/train.json', data_prefix=dict(img='train/')))
val_dataloader = dict(dataset=dict(
    data_root=data_root, metainfo=metainfo,
    ann_file='annotations/val.json', data_prefix=dict(img='val/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
model = dict(
    roi_head=dict(bbox_head=dict(num_classes=len(metainfo['classes']))))

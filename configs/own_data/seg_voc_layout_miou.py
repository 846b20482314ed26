# Bring your own data: an mIoU search on a segmentation set of your own
# classes in the PASCAL VOC layout, read by mmseg's BaseSegDataset
# (PascalVOCDataset accepts only the 21 VOC class names):
#
#   data/my_seg/JPEGImages/NAME.jpg              the images
#   data/my_seg/SegmentationClass/NAME.png       masks: pixel = class index,
#                                                255 = ignored
#   data/my_seg/ImageSets/Segmentation/train.txt one NAME a line (val.txt too)
#
#   autoloss-search configs/own_data/seg_voc_layout_miou.py
#
# The search, proxy model and schedule are the demo's
# (configs/demo/voc_miou.py); copy this file and change the data root, the
# classes and their palette. For more iterations or another metric, override
# search.proxy.max_iters or val_evaluator as configs/demo/voc_*.py do.
_base_ = ['../demo/voc_miou.py']
data_root = 'data/my_seg'
metainfo = dict(
    classes=('road', 'tree'), palette=[[128, 64, 128], [107, 142, 35]])
num_classes = len(metainfo['classes'])
own_dataset = dict(
    type='BaseSegDataset',
    data_root=data_root,
    metainfo=metainfo,
    img_suffix='.jpg',
    seg_map_suffix='.png')
train_dataloader = dict(dataset=own_dataset)
val_dataloader = dict(dataset=own_dataset)
test_dataloader = val_dataloader
model = dict(
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))

"""Retrain and transfer a searched loss with tools/train.py --loss, evaluate
with tools/test.py (in-process main(argv), tiny generated data)."""
import pickle

from autoloss_zero.losses import SearchedSegLoss
from autoloss_zero.search.execution.slots import load_searched_slots

from ..conftest import REPO
from .conftest import load_tool


def _data_options(root, iters=2):
    return [f'{k}.dataset.data_root={root}' for k in (
        'train_dataloader', 'val_dataloader', 'test_dataloader')] + [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'default_hooks.checkpoint.interval={iters}',
        'default_hooks.logger.interval=1', 'log_level=WARNING',
        'train_dataloader.batch_size=2']


def _check_losses(model, tree):
    decode = model.decode_head.loss_decode
    aux = model.auxiliary_head.loss_decode
    for module, weight in ((decode, 1.0), (aux, 0.4)):
        assert isinstance(module, SearchedSegLoss)
        assert str(module.tree) == tree and module.loss_weight == weight


def _train_and_test(config, snippet, root, work_dir, tmp_path):
    train, test = load_tool('train'), load_tool('test')
    runner = train.main([str(REPO / 'configs' / 'demo' / config), '--loss',
                         str(snippet), '--work-dir', str(work_dir),
                         '--cfg-options', *_data_options(root)])
    tree = load_searched_slots(str(snippet))[
        'model.decode_head.loss_decode']['tree']
    _check_losses(runner.model, tree)
    assert runner.iter == 2 and (work_dir / 'iter_2.pth').is_file()
    out = tmp_path / f'{work_dir.name}.pkl'
    metrics = test.main([str(REPO / 'configs' / 'demo' / config),
                         str(work_dir / 'iter_2.pth'), '--work-dir',
                         str(work_dir / 'test'), '--out', str(out),
                         '--cfg-options', *_data_options(root)])
    assert 0.0 <= metrics['mIoU'] <= 100.0
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) > 0 and 'pred_sem_seg' in preds[0]
    return metrics


def test_retrain_and_transfer_searched_loss(tiny_search, tiny_data,
                                            tmp_path, capsys):
    snippet = tiny_search['work_dir'] / 'best' / 'top1.py'
    voc = _train_and_test('retrain_deeplabv3plus_r18_demo-voc.py', snippet,
                          tiny_data['voc'], tmp_path / 'retrain', tmp_path)
    city = _train_and_test('transfer_pspnet_r18_demo-cityscapes.py', snippet,
                           tiny_data['cityscapes'], tmp_path / 'transfer',
                           tmp_path)
    printed = capsys.readouterr().out
    assert f'"mIoU": {voc["mIoU"]}' in printed
    assert f'"mIoU": {city["mIoU"]}' in printed


def test_train_resume(tiny_search, tiny_data, tmp_path, monkeypatch):
    """--resume (latest checkpoint) continues from iteration 2 to 3."""
    from mmengine.runner import Runner
    resumed = []
    original = Runner.resume

    def resume(self, filename, *args, **kwargs):
        resumed.append(filename)
        return original(self, filename, *args, **kwargs)

    monkeypatch.setattr(Runner, 'resume', resume)
    train = load_tool('train')
    config = str(REPO / 'configs/demo/transfer_pspnet_r18_demo-cityscapes.py')
    snippet = str(tiny_search['work_dir'] / 'best' / 'top1.py')
    work_dir = tmp_path / 'resume'
    train.main([config, '--loss', snippet, '--work-dir', str(work_dir),
                '--cfg-options', *_data_options(tiny_data['cityscapes'])])
    runner = train.main([config, '--loss', snippet, '--work-dir',
                         str(work_dir), '--resume', '--cfg-options',
                         *_data_options(tiny_data['cityscapes'], iters=3)])
    assert runner.iter == 3 and (work_dir / 'iter_3.pth').is_file()
    assert resumed == [str(work_dir / 'iter_2.pth')]

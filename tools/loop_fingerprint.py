#!/usr/bin/env python
"""Fingerprint the training loops: short deterministic runs of Solver, train_net and Trainer, every result saved.

    python tools/loop_fingerprint.py /tmp/before.npz        # on the old code (run from the repository root)
    python tools/loop_fingerprint.py /tmp/after.npz         # on the new code
    python tools/loop_fingerprint.py --compare /tmp/before.npz /tmp/after.npz

The runs (a few seconds on one thread) cover the Solver with each update rule on a net with batch norm and dropout,
its checkpoints and a resumed run, a two-layer net and a small convolutional net; train_net with two optimisers on a
Sequential with batch norm and dropout; the Trainer on a small StrongNet with augmentation, its best.npz and last.npz
and a run resumed from the checkpoint of epoch 2. Parameters, running averages, histories, optimiser state and
checkpoint contents are saved; --compare lists the arrays whose bytes differ. A refactoring of the loops that changes
no computation leaves every array bit-identical.
"""
import sys, os, json, tempfile
if len(sys.argv) == 4 and sys.argv[1] == '--compare':
    import numpy as np
    a, b = np.load(sys.argv[2]), np.load(sys.argv[3])
    bad = [k for k in a.files if k not in b.files or a[k].dtype != b[k].dtype or a[k].shape != b[k].shape
           or a[k].tobytes() != b[k].tobytes()]
    new = [k for k in b.files if k not in a.files]
    print(f"{len(a.files)} arrays compared: {len(bad)} differ, {len(new)} only in the second file", bad[:20], new[:10])
    sys.exit(1 if bad else 0)
if len(sys.argv) != 2: sys.exit(__doc__)
from pathlib import Path
sys.path.insert(0, os.getcwd())
import numpy as np
from threadpoolctl import threadpool_limits
threadpool_limits(1)
from dl_nb.all import (Solver, TwoLayerNet, FullyConnectedNet, ThreeLayerConvNet, Sequential, Linear, ReLU, BatchNorm,
                       Dropout, Adam, SGDM, train_net, StrongNet, Trainer, load_checkpoint)   # wherever they live
out = {}
def put(prefix, d):
    for k, v in d.items():
        out[f'{prefix}/{k}'] = np.asarray(v)

rng = np.random.default_rng(0)
X = rng.normal(size=(300, 20)); y = rng.integers(0, 5, 300); X[np.arange(300), y] += 2
data = {'X_train': X[:240], 'y_train': y[:240], 'X_val': X[240:], 'y_val': y[240:]}
with tempfile.TemporaryDirectory() as tmp:
    # 1. Solver: FC net with batch norm and dropout, adam, lr decay, checkpoints, resume
    for rule in ('sgd', 'sgd_momentum', 'rmsprop', 'adam'):
        np.random.seed(3)
        m = FullyConnectedNet([30, 20], input_dim=20, num_classes=5, normalization='batchnorm',
                              dropout_keep_ratio=0.8, weight_scale=5e-2, seed=1)
        s = Solver(m, data, update_rule=rule, optim_config={'learning_rate': 1e-2}, lr_decay=0.9, batch_size=25,
                   num_epochs=3, num_train_samples=100, num_val_samples=50, checkpoint_name=f'{tmp}/s_{rule}',
                   verbose=False, progress=False)
        s.train()
        put(f'solver_{rule}/params', m.params)
        for i, bn in enumerate(m.bn_params): put(f'solver_{rule}/bn{i}', {k: v for k, v in bn.items() if isinstance(v, np.ndarray)})
        put(f'solver_{rule}', {'loss': s.loss_history, 'train': s.train_acc_history, 'val': s.val_acc_history,
                              'best': s.best_val_acc})
        for p, c in s.optim_configs.items(): put(f'solver_{rule}/optim/{p}', c)
        # resume from epoch 2 into a fresh solver and train to the end
        np.random.seed(99)
        m2 = FullyConnectedNet([30, 20], input_dim=20, num_classes=5, normalization='batchnorm',
                               dropout_keep_ratio=0.8, weight_scale=5e-2, seed=7)
        s2 = Solver(m2, data, update_rule=rule, optim_config={'learning_rate': 1e-2}, lr_decay=0.9, batch_size=25,
                    num_epochs=3, num_train_samples=100, num_val_samples=50, verbose=False, progress=False)
        s2.load_checkpoint(f'{tmp}/s_{rule}_epoch_2.npz'); s2.train()
        put(f'solver_{rule}_resumed/params', m2.params)
        put(f'solver_{rule}_resumed', {'loss': s2.loss_history, 'val': s2.val_acc_history})
    # Solver: two-layer net, default print logs
    np.random.seed(0)
    s = Solver(TwoLayerNet(20, 30, 5, weight_scale=1e-2), data, optim_config={'learning_rate': 0.1}, num_epochs=2,
               batch_size=50, verbose=False, progress=False)
    s.train(); put('solver_tln/params', s.model.params); put('solver_tln', {'loss': s.loss_history, 'val': s.val_acc_history})
    # Solver on a small ThreeLayerConvNet (chapter 05's model)
    rc = np.random.default_rng(2)
    Xc = rc.normal(size=(60, 3, 8, 8)); yc = rc.integers(0, 3, 60)
    dc = {'X_train': Xc[:40], 'y_train': yc[:40], 'X_val': Xc[40:], 'y_val': yc[40:]}
    np.random.seed(4)
    cm = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=10, num_classes=3, weight_scale=1e-2)
    cs = Solver(cm, dc, update_rule='adam', optim_config={'learning_rate': 1e-3}, batch_size=10, num_epochs=2,
                verbose=False, progress=False)
    cs.train()
    put('solver_conv/params', cm.params); put('solver_conv', {'loss': cs.loss_history, 'val': cs.val_acc_history})
    # 2. train_net: Sequential with BN and dropout, Adam and SGDM
    for opt in ('adam', 'sgdm'):
        np.random.seed(5)
        net = Sequential(Linear(20, 30), BatchNorm(30), ReLU(), Dropout(0.8), Linear(30, 5), reg=1e-3)
        o = Adam(net, lr=1e-2) if opt == 'adam' else SGDM(net, lr=1e-2, weight_decay=1e-3)
        h = train_net(net, data, o, batch_size=32, epochs=4, lr_decay=0.8, lr_decay_every=2, num_train_samples=100,
                      verbose=False)
        put(f'train_net_{opt}/params', dict(net.params))
        for i, bn in enumerate(net.bn_params): put(f'train_net_{opt}/bn{i}', {k: v for k, v in bn.items() if isinstance(v, np.ndarray)})
        put(f'train_net_{opt}', {'loss': h['loss_history'], 'train': h['train_acc_history'], 'val': h['val_acc_history'],
                                'best': h['best_val_acc'], 'lr': o.lr})
        put(f'train_net_{opt}/best_params', h['best_params'])
        for p, c in o.configs.items(): put(f'train_net_{opt}/optim/{p}', {k: v for k, v in c.items()})
    # 3. Trainer: small StrongNet on random images, checkpoints, resume
    r = np.random.default_rng(1)
    Xi = r.normal(size=(200, 3, 16, 16)).astype(np.float32); yi = r.integers(0, 4, 200)
    Xi[np.arange(200), 0, :4, :4] += yi[:, None, None].astype(np.float32)
    d = {'X_train': Xi[:160], 'y_train': yi[:160], 'X_val': Xi[160:], 'y_val': yi[160:]}
    def mk(): 
        m = StrongNet(input_dim=(3, 16, 16), widths=(4, 8, 8), num_classes=4, seed=0)
        m.spec = {'name': 'strong', 'input_dim': [3, 16, 16], 'num_classes': 4, 'dtype': 'float32', 'seed': 0,
                  'kwargs': {'widths': [4, 8, 8]}}
        return m
    m = mk()
    t = Trainer(m, d, epochs=3, batch_size=32, lr=0.05, out_dir=f'{tmp}/tr', progress=False, log=None, num_train_eval=50)
    hist = t.fit()
    put('trainer/params', m.params)
    for i, bn in enumerate(m.bn_params): put(f'trainer/bn{i}', {k: v for k, v in bn.items() if isinstance(v, np.ndarray)})
    put('trainer', {k: v for k, v in hist.items() if k != 'time_history'})
    put('trainer', {'best_epoch': t.best_epoch, 'best_val_acc': t.best_val_acc})
    for name in ('best', 'last'):
        mm, meta, extra = load_checkpoint(f'{tmp}/tr/{name}.npz')
        put(f'trainer_ckpt_{name}/params', mm.params); put(f'trainer_ckpt_{name}/extra', extra)
        tr_meta = meta.get('trainer', {})
        put(f'trainer_ckpt_{name}', {'epoch': tr_meta.get('epoch', -1), 'best_epoch': tr_meta.get('best_epoch', -1) or -1})
    # resume: keep a copy of last.npz after epoch 2 (the log line comes after the checkpoint), continue in a new Trainer
    import shutil
    def keep(msg):
        if msg.startswith('epoch 2/'): shutil.copy(f'{tmp}/tr2/last.npz', f'{tmp}/epoch2.npz')
    m2 = mk()
    Trainer(m2, d, epochs=3, batch_size=32, lr=0.05, out_dir=f'{tmp}/tr2', progress=False, log=keep, num_train_eval=50).fit()
    m3 = mk()
    t3 = Trainer(m3, d, epochs=3, batch_size=32, lr=0.05, progress=False, log=None, num_train_eval=50).resume(f'{tmp}/epoch2.npz')
    h3 = t3.fit()
    put('trainer_resumed/params', m3.params)
    put('trainer_resumed', {k: v for k, v in h3.items() if k != 'time_history'})
    assert all(np.array_equal(m3.params[k], m.params[k]) for k in m.params)
np.savez(sys.argv[1], **out)
print(len(out), 'arrays ->', sys.argv[1])

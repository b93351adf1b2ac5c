#!/usr/bin/env python
"""A reference run: airbench94's recipe written for PyTorch on the CPU, trained on the split `dl_nb train` uses.

    DL_NB_CIFAR10=<folder> python tools/airbench_torch.py EPOCHS [BATCH] [SEED] [N_TRAIN]     # needs PyTorch

The network, initialisation, optimiser (Nesterov SGD on the summed loss, the batch-norm shifts at 64 times the rate
with the same decoupled decay), schedule (0.2 -> 1 -> 0.07 of the peak, peak at 23%), lookahead on every float
tensor of the state (batch-norm statistics included, synchronised every 5 steps from epoch 3 and at the end of each
epoch), whitening-bias freeze after 3 epochs, alternating flips with reflect-padded 2-pixel crops and six-view
evaluation follow airbench94 (Keller Jordan, arXiv 2404.00498), at the batch size given (airbench: 1024; dl_nb's
command line: 500). The data are `load_dataset(DL_NB_CIFAR10, num_validation=1000, seed=SEED)`, as `dl_nb train
--seed SEED` loads them; with N_TRAIN, the validation split of seed 0 and the fixed subset of N_TRAIN training
images that `dl_nb.recipe.ablation_run` trains on (chapter 13's ablations). Prints one JSON line per epoch (six-view accuracy on the 1,000 held-out images) and the test
accuracy with six views and with one. It answers one question: what does the published recipe itself reach on these
images, so that chapter 13's runs can be told apart from the data they train on.
"""
import json, os, sys, time
from pathlib import Path
import numpy as np, torch
from torch import nn
import torch.nn.functional as F
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dl_nb.data import load_dataset
from dl_nb.runtime import keep_freed_memory
keep_freed_memory()   # as dl_nb train does: without it PyTorch's large steps spend much of their time on page faults
if len(sys.argv) < 2 or not os.environ.get('DL_NB_CIFAR10'):
    sys.exit('usage: DL_NB_CIFAR10=<folder> python tools/airbench_torch.py EPOCHS [BATCH] [SEED] [N_TRAIN]')
EPOCHS, BATCH, SEED = int(sys.argv[1]), int((sys.argv[2:3] or [500])[0]), int((sys.argv[3:4] or [0])[0])
N_TRAIN = int(sys.argv[4]) if len(sys.argv) > 4 else None
torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', 2))); torch.manual_seed(SEED)
d = load_dataset(os.environ['DL_NB_CIFAR10'], num_validation=1000, seed=0 if N_TRAIN else SEED)
if N_TRAIN:   # ablation_run's subset: fixed by its size alone
    pick = np.sort(np.random.default_rng(N_TRAIN).permutation(len(d['y_train']))[:N_TRAIN])
    d['X_train'], d['y_train'] = d['X_train'][pick], d['y_train'][pick]
Xtr, ytr = torch.from_numpy(d['X_train']), torch.from_numpy(d['y_train']).long()
Xte, yte = torch.from_numpy(d['X_test']), torch.from_numpy(d['y_test']).long()

class BN(nn.BatchNorm2d):
    def __init__(self, c):
        super().__init__(c, eps=1e-12, momentum=0.4)
        self.weight.requires_grad = False
def conv(cin, cout):
    c = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
    with torch.no_grad(): nn.init.dirac_(c.weight[:cin])
    return c
class Group(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1, self.norm1, self.conv2, self.norm2 = conv(cin, cout), BN(cout), conv(cout, cout), BN(cout)
    def forward(self, x):
        x = F.gelu(self.norm1(F.max_pool2d(self.conv1(x), 2)))
        return F.gelu(self.norm2(self.conv2(x)))
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.whiten = nn.Conv2d(3, 24, 2, bias=True)
        self.g1, self.g2, self.g3 = Group(24, 64), Group(64, 256), Group(256, 256)
        self.head = nn.Linear(256, 10, bias=False)
    def forward(self, x):
        x = F.gelu(self.whiten(x))
        x = self.g3(self.g2(self.g1(x)))
        return self.head(F.max_pool2d(x, 3).flatten(1)) / 9
net = Net()
with torch.no_grad():   # whitening filters from the patches of 5,000 training images (uncentred second moment)
    p = Xtr[:5000].unfold(2, 2, 1).unfold(3, 2, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, 12).double()
    lam, V = torch.linalg.eigh(p.T @ p / len(p))
    lam, V = lam.flip(0), V.flip(1)
    W = (V / torch.sqrt(lam + 5e-4)).T.reshape(12, 3, 2, 2).float()
    net.whiten.weight.copy_(torch.cat([W, -W])); net.whiten.bias.zero_()
net.whiten.weight.requires_grad = False

mom = 0.85
kilo = 1024 * (1 + 1 / (1 - mom))
lr, wd = 11.5 / kilo, 0.0153 * BATCH / kilo
norm_b = [p for k, p in net.named_parameters() if 'norm' in k and p.requires_grad]
other = [p for k, p in net.named_parameters() if 'norm' not in k and p.requires_grad]
opt = torch.optim.SGD([dict(params=norm_b, lr=64 * lr, weight_decay=wd / (64 * lr)),
                       dict(params=other, lr=lr, weight_decay=wd / lr)], momentum=mom, nesterov=True)
steps_per_epoch = len(ytr) // BATCH
total = EPOCHS * steps_per_epoch
def sched(i):
    peak = int(0.23 * total)
    return 0.2 + 0.8 * i / peak if i < peak else 1 + (0.07 - 1) * (i - peak) / (total - peak)
lrs = torch.optim.lr_scheduler.LambdaLR(opt, sched)
loss_fn = nn.CrossEntropyLoss(label_smoothing=0.2, reduction='sum')

g = torch.Generator().manual_seed(SEED)
flipped = torch.where((torch.rand(len(ytr), generator=g) < 0.5).view(-1, 1, 1, 1), Xtr.flip(-1), Xtr)
padded = F.pad(flipped, (2,) * 4, 'reflect')
def crops():
    s = torch.randint(-2, 3, (len(ytr), 2), generator=g)
    out = torch.empty_like(Xtr)
    for sy in range(-2, 3):
        for sx in range(-2, 3):
            m = (s[:, 0] == sy) & (s[:, 1] == sx)
            out[m] = padded[m, :, 2 + sy:34 + sy, 2 + sx:34 + sx]
    return out

ema, step, t0, val = None, 0, time.time(), []
def evaluate(X, y, tta):
    net.eval(); outs = []
    with torch.no_grad():
        for i in range(0, len(X), 1000):
            x = X[i:i + 1000]
            m = lambda v: 0.5 * net(v) + 0.5 * net(v.flip(-1))
            if tta:
                pad = F.pad(x, (1,) * 4, 'reflect')
                o = 0.5 * m(x) + 0.25 * m(pad[:, :, 0:32, 0:32]) + 0.25 * m(pad[:, :, 2:34, 2:34])
            else: o = net(x)
            outs.append(o)
    net.train()
    return float((torch.cat(outs).argmax(1) == y).float().mean())
for epoch in range(EPOCHS):
    net.whiten.bias.requires_grad = epoch < 3
    imgs = crops()
    if epoch % 2 == 1: imgs = imgs.flip(-1)
    perm = torch.randperm(len(ytr), generator=g)
    for i in range(steps_per_epoch):
        idx = perm[i * BATCH:(i + 1) * BATCH]
        loss = loss_fn(net(imgs[idx]), ytr[idx])
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); lrs.step(); step += 1
        if epoch >= 3 and step % 5 == 0:
            if ema is None: ema = {k: v.clone() for k, v in net.state_dict().items()}
            else:
                rho = 0.95 ** 5 * (step / total) ** 3
                for (k, e), v in zip(ema.items(), net.state_dict().values()):
                    if v.dtype == torch.float32: e.lerp_(v, 1 - rho); v.copy_(e)
    if ema is not None:
        for e, v in zip(ema.values(), net.state_dict().values()):
            if v.dtype == torch.float32: v.copy_(e)
    val.append(evaluate(torch.from_numpy(d['X_val']), torch.from_numpy(d['y_val']).long(), True))
    print(json.dumps({'epoch': epoch + 1, 'val': val[-1], 'seconds': round(time.time() - t0)}), flush=True)
print(json.dumps({'test_six': evaluate(Xte, yte, True), 'test_one': evaluate(Xte, yte, False), 'seconds': round(time.time() - t0)}), flush=True)

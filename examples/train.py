#!/usr/bin/env python3
"""A small real training run for Harrow's demo: a one-hidden-layer MLP learns the "two moons"
classification problem by mini-batch gradient descent. Pure standard-library Python, ~1-4 s.

Hyperparameters come as command-line flags (``--lr=0.05``, as the sweep's ``${args}`` renders
them) and from ``harrow.params()``; flags win. Each epoch logs train_loss, val_loss and val_acc
through ``harrow.log``. A diverged run (NaN or infinite loss) exits with status 3.

Run it on its own:  python3 examples/train.py --lr=0.1 --optimizer=adam
"""

import argparse
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sdk", "python"))
import harrow  # noqa: E402

DEFAULTS = {
    "lr": 0.05,
    "hidden": 16,
    "batch_size": 32,
    "optimizer": "adam",
    "weight_decay": 1e-4,
    "activation": "tanh",
    "epochs": 40,
    "seed": 1,
}

DATA_SEED = 7
N_TRAIN = 1000
N_VAL = 500
NOISE = 0.25


def two_moons(n, rng):
    """n points of two interleaved half circles with Gaussian noise; labels 0 and 1."""
    points = []
    for i in range(n):
        label = i % 2
        t = rng.uniform(0.0, math.pi)
        if label == 0:
            x, y = math.cos(t), math.sin(t)
        else:
            x, y = 1.0 - math.cos(t), 0.5 - math.sin(t)
        # Centre and scale roughly to unit variance, so one learning-rate range suits all runs.
        points.append(((x - 0.5 + rng.gauss(0, NOISE)) / 0.9, (y - 0.25 + rng.gauss(0, NOISE)) / 0.6, label))
    rng.shuffle(points)
    return points


class MLP:
    """2 inputs -> `hidden` units (tanh or relu) -> 1 logit. Parameters live in one flat list."""

    def __init__(self, hidden, activation, rng):
        self.h = hidden
        self.relu = activation == "relu"
        scale = math.sqrt(2.0 / 2) if self.relu else math.sqrt(1.0 / 2)
        w1 = [rng.gauss(0, scale) for _ in range(2 * hidden)]
        b1 = [0.0] * hidden
        w2 = [rng.gauss(0, math.sqrt(1.0 / hidden)) for _ in range(hidden)]
        self.theta = w1 + b1 + w2 + [0.0]
        # Weight decay applies to weights, not biases.
        self.decay_mask = [1.0] * (2 * hidden) + [0.0] * hidden + [1.0] * hidden + [0.0]

    def forward_backward(self, batch, grad):
        """Adds the batch's mean loss gradient to `grad`; returns the summed loss."""
        h, th = self.h, self.theta
        o_b1, o_w2, o_b2 = 2 * h, 3 * h, 4 * h
        b2 = th[o_b2]
        inv = 1.0 / len(batch)
        total = 0.0
        for x0, x1, y in batch:
            pre = [th[2 * j] * x0 + th[2 * j + 1] * x1 + th[o_b1 + j] for j in range(h)]
            if self.relu:
                act = [p if p > 0.0 else 0.0 for p in pre]
            else:
                act = [math.tanh(p) for p in pre]
            z = b2
            for j in range(h):
                z += th[o_w2 + j] * act[j]
            total += bce_with_logit(z, y)
            dz = (sigmoid(z) - y) * inv
            grad[o_b2] += dz
            for j in range(h):
                w = th[o_w2 + j]
                grad[o_w2 + j] += dz * act[j]
                if self.relu:
                    dpre = dz * w if pre[j] > 0.0 else 0.0
                else:
                    dpre = dz * w * (1.0 - act[j] * act[j])
                grad[2 * j] += dpre * x0
                grad[2 * j + 1] += dpre * x1
                grad[o_b1 + j] += dpre
        return total

    def evaluate(self, data):
        """Mean loss and accuracy over `data`."""
        h, th = self.h, self.theta
        o_b1, o_w2, o_b2 = 2 * h, 3 * h, 4 * h
        loss = 0.0
        correct = 0
        for x0, x1, y in data:
            z = th[o_b2]
            for j in range(h):
                p = th[2 * j] * x0 + th[2 * j + 1] * x1 + th[o_b1 + j]
                a = (p if p > 0.0 else 0.0) if self.relu else math.tanh(p)
                z += th[o_w2 + j] * a
            loss += bce_with_logit(z, y)
            correct += (z > 0.0) == (y == 1)
        return loss / len(data), correct / len(data)


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def bce_with_logit(z, y):
    """Binary cross-entropy of logit z against label y, without overflow for large |z|."""
    if math.isnan(z):
        return z
    return max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))


class Optimizer:
    def __init__(self, kind, lr, weight_decay, n):
        self.kind, self.lr, self.wd = kind, lr, weight_decay
        self.m = [0.0] * n
        self.v = [0.0] * n
        self.t = 0

    def step(self, theta, grad, mask):
        self.t += 1
        lr, wd, m, v = self.lr, self.wd, self.m, self.v
        if self.kind == "adam":
            b1, b2, eps = 0.9, 0.999, 1e-8
            c1 = 1.0 - b1**self.t
            c2 = 1.0 - b2**self.t
        for i, g in enumerate(grad):
            g += wd * mask[i] * theta[i]
            if self.kind == "sgd":
                theta[i] -= lr * g
            elif self.kind == "momentum":
                m[i] = 0.9 * m[i] + g
                theta[i] -= lr * m[i]
            else:
                m[i] = b1 * m[i] + (1.0 - b1) * g
                v[i] = b2 * v[i] + (1.0 - b2) * g * g
                theta[i] -= lr * (m[i] / c1) / (math.sqrt(v[i] / c2) + eps)


def parse_args():
    p = harrow.params(DEFAULTS)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lr", type=float, default=p["lr"])
    parser.add_argument("--hidden", type=int, default=p["hidden"])
    parser.add_argument("--batch_size", type=int, default=p["batch_size"])
    parser.add_argument("--optimizer", choices=["sgd", "momentum", "adam"], default=p["optimizer"])
    parser.add_argument("--weight_decay", type=float, default=p["weight_decay"])
    parser.add_argument("--activation", choices=["tanh", "relu"], default=p["activation"])
    parser.add_argument("--epochs", type=int, default=p["epochs"])
    parser.add_argument("--seed", type=int, default=p["seed"])
    args = parser.parse_args()
    if args.lr <= 0 or args.hidden < 1 or args.batch_size < 1 or args.epochs < 1 or args.weight_decay < 0:
        parser.error("lr, hidden, batch_size and epochs must be positive and weight_decay ≥ 0")
    return args


def main():
    args = parse_args()
    data = two_moons(N_TRAIN + N_VAL, random.Random(DATA_SEED))
    train, val = data[:N_TRAIN], data[N_TRAIN:]
    rng = random.Random(args.seed)
    model = MLP(args.hidden, args.activation, rng)
    opt = Optimizer(args.optimizer, args.lr, args.weight_decay, len(model.theta))
    print(
        "training a %d-unit %s MLP with %s (lr %.3g, batch %d, weight decay %.2g) for %d epochs"
        % (args.hidden, args.activation, args.optimizer, args.lr, args.batch_size, args.weight_decay, args.epochs)
    )
    started = time.time()
    for epoch in range(args.epochs):
        rng.shuffle(train)
        total = 0.0
        for start in range(0, len(train), args.batch_size):
            batch = train[start : start + args.batch_size]
            grad = [0.0] * len(model.theta)
            total += model.forward_backward(batch, grad)
            opt.step(model.theta, grad, model.decay_mask)
        train_loss = total / len(train)
        val_loss, val_acc = model.evaluate(val)
        harrow.log({"train_loss": train_loss, "val_loss": val_loss, "val_acc": val_acc}, step=epoch)
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            print("diverged at epoch %d (loss %s): try a smaller learning rate" % (epoch, train_loss), file=sys.stderr)
            return 3
    print("done in %.1f s: val_loss %.4f, val_acc %.3f" % (time.time() - started, val_loss, val_acc))
    return 0


if __name__ == "__main__":
    sys.exit(main())

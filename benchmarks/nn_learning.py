"""Does the study's CNN learn? Noise-free FitzHugh–Nagumo data, N = 1000 training and M = 2000
test series (spec/paper.md: test R² 0.995), trained in the native core.

    python benchmarks/nn_learning.py [--epochs 200] [--seed 0] [--threads 0]

Prints R² and median absolute percentage error per parameter and the training time.
"""

import argparse
import time

import numpy as np

import fhn_inverse as fi


def r2(pred, true):
    return 1 - ((pred - true) ** 2).sum(0) / ((true - true.mean(0)) ** 2).sum(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    pool, test = fi.study_data(seed=args.seed, train_size=1000, test_size=2000)
    t_data = time.perf_counter() - t0
    m = fi.InverseMap.cnn(seed=args.seed)
    t0 = time.perf_counter()
    m.fit(pool.u, pool.theta, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
          validation=0.1, restore_best=True, n_threads=args.threads, progress=False)
    t_train = time.perf_counter() - t0
    pred = m.predict(test.u)
    score = r2(pred, test.theta)
    mape = np.median(np.abs(pred - test.theta) / np.abs(test.theta), axis=0)
    print(f"data {t_data:.1f} s, training {t_train:.1f} s ({args.epochs} epochs, "
          f"{m.history['best_epoch'] + 1} best), parameters {m.n_params}")
    print(f"test R² theta0 {score[0]:.4f} theta1 {score[1]:.4f}; median APE {mape[0]:.4f} {mape[1]:.4f}")


if __name__ == "__main__":
    main()

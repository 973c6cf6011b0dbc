"""Optuna's TPE on one model of evaluate.py: the peer arm of `npm run bench:real`.

    python3 bench/real/tpe.py --model svm --seed 1 --evals 60

Optuna's default TPESampler (seeded; its defaults are what a user gets), the same objective
function as the other arms (evaluate.evaluate, same folds and model seeds), the same search space
(evaluate.SPACES, translated below). Prints one JSON line per trial:

    {"trial": 0, "error": 0.05, "seconds": 0.2, "elapsed": 0.21, "params": {"C": 1.0, "gamma": 0.01}}

``seconds`` is the training time of that trial, ``elapsed`` the wall time since the study
started, proposals included (the import of scikit-learn and Optuna is not counted, as the other
arms do not count starting their evaluation worker).
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import optuna  # noqa: E402

from evaluate import CV_PROTOCOLS, SPACES, evaluate  # noqa: E402


def suggest(trial, name, spec):
    """W&B's parameter forms used in SPACES, as Optuna distributions with the same law."""
    dist = spec.get("distribution", "categorical" if "values" in spec else None)
    if dist == "categorical":
        return trial.suggest_categorical(name, spec["values"])
    if dist == "log_uniform_values":
        return trial.suggest_float(name, spec["min"], spec["max"], log=True)
    if dist == "q_log_uniform_values" and spec.get("q") == 1:
        return trial.suggest_int(name, int(spec["min"]), int(spec["max"]), log=True)
    if dist == "int_uniform":
        return trial.suggest_int(name, int(spec["min"]), int(spec["max"]))
    if dist == "uniform":
        return trial.suggest_float(name, spec["min"], spec["max"])
    raise ValueError(f"no Optuna translation for {name}: {spec}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, choices=sorted(SPACES))
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--evals", type=int, required=True)
    parser.add_argument("--cv", default="3fold", choices=CV_PROTOCOLS)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = SPACES[args.model]
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=args.seed))
    t0 = time.perf_counter()

    def objective(trial):
        params = {name: suggest(trial, name, spec) for name, spec in space.items()}
        t = time.perf_counter()
        err = evaluate(args.model, params, args.cv)
        trial.set_user_attr("seconds", time.perf_counter() - t)
        return err

    for i in range(args.evals):
        study.optimize(objective, n_trials=1)
        last = study.trials[-1]
        err = last.value if last.value is not None and math.isfinite(last.value) else 1.0
        line = {
            "trial": i,
            "error": err,
            "seconds": last.user_attrs.get("seconds", 0.0),
            "elapsed": time.perf_counter() - t0,
            "params": last.params,
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

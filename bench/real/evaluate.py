"""Real model training for `npm run bench:real`: the search spaces and the objective.

Three models, each on a data set that ships with scikit-learn (Debian's python3-sklearn), each
scored by cross-validated classification error (1 - mean accuracy over the folds):

- ``svm``: an RBF support-vector classifier on digits (1797 images, 10 classes); C and gamma on
  log scales, the textbook two-parameter search.
- ``gbt``: histogram gradient boosting on wine (178 samples, 3 classes, repeated folds so the
  error is not stuck on a 1/178 grid); integer parameters on log scales and log-scale floats.
- ``mlp``: a multi-layer perceptron on breast cancer (569 samples, standardised); depth, width,
  activation, solver and batch size, among them three categorical ones.

The folds, the model seeds and the data are fixed, so the objective is a deterministic function
of the parameters: the arms of the benchmark differ only by the configurations they try.

Run as a program it is a long-lived worker speaking JSON lines on stdin/stdout (one process per
benchmark arm, so the ~1 s import of scikit-learn is paid once):

    {"op": "spaces"}                                  -> {"spaces": {model: {name: wandb-param}}}
    {"op": "eval", "id": 7, "model": "svm", "params": {"C": 1.0, "gamma": 0.01}}
                                                      -> {"id": 7, "error": 0.0123, "seconds": 0.21}
    {"op": "eval", ..., "cv": "3x2"}                  the same under another CV protocol (CV_PROTOCOLS)
    a bad request                                     -> {"id": ..., "error": null, "message": "..."}

``SPACES`` is the one definition of the search spaces: the node side turns it into a sweep file
(W&B's parameter forms, as written here) and tpe.py into Optuna distributions.
"""
import json
import os
import sys
import time
import warnings

# One core per evaluation: the benchmark measures optimizers, not BLAS threading, and the
# machine is shared.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, load_wine  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

SPACES = {
    "svm": {
        "C": {"distribution": "log_uniform_values", "min": 1e-2, "max": 1e4},
        "gamma": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1.0},
    },
    "gbt": {
        "learning_rate": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1.0},
        "max_iter": {"distribution": "q_log_uniform_values", "min": 10, "max": 300, "q": 1},
        "max_leaf_nodes": {"distribution": "q_log_uniform_values", "min": 2, "max": 64, "q": 1},
        "min_samples_leaf": {"distribution": "q_log_uniform_values", "min": 1, "max": 60, "q": 1},
        "l2_regularization": {"distribution": "log_uniform_values", "min": 1e-8, "max": 10.0},
        "max_bins": {"distribution": "int_uniform", "min": 8, "max": 255},
    },
    "mlp": {
        "layers": {"distribution": "int_uniform", "min": 1, "max": 3},
        "width": {"distribution": "q_log_uniform_values", "min": 4, "max": 128, "q": 1},
        "activation": {"values": ["relu", "tanh", "logistic"]},
        "solver": {"values": ["adam", "sgd"]},
        "alpha": {"distribution": "log_uniform_values", "min": 1e-7, "max": 1.0},
        "learning_rate_init": {"distribution": "log_uniform_values", "min": 1e-4, "max": 0.3},
        "batch_size": {"values": [32, 64, 128, 256]},
    },
}

_DATA = {}


def _data(name):
    if name not in _DATA:
        if name == "digits":
            d = load_digits()
            _DATA[name] = (d.data / 16.0, d.target)
        elif name == "wine":
            d = load_wine()
            _DATA[name] = (d.data, d.target)
        else:
            d = load_breast_cancer()
            _DATA[name] = (d.data, d.target)
    return _DATA[name]


def _int(params, key):
    return int(round(float(params[key])))


#: Cross-validation protocols. ``3fold`` (the default): 3-fold stratified CV on digits and breast
#: cancer, 3-fold repeated twice on wine (178 samples). ``3x2``: 3-fold repeated twice on all three,
#: so the error moves in steps of 1/(2n) instead of 1/n and fewer configurations tie exactly (see
#: the README's "On real model training"); twice the trainings on digits and breast cancer.
CV_PROTOCOLS = ("3fold", "3x2")


def _folds(cv, repeated_anyway=False):
    if cv not in CV_PROTOCOLS:
        raise ValueError(f"unknown cv protocol {cv!r}; one of {', '.join(CV_PROTOCOLS)}")
    if cv == "3x2" or repeated_anyway:
        return RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0)
    return StratifiedKFold(n_splits=3, shuffle=True, random_state=0)


def build(model, params, cv="3fold"):
    """(estimator, data set name, folds) for one configuration."""
    if model == "svm":
        est = SVC(C=float(params["C"]), gamma=float(params["gamma"]), kernel="rbf")
        return est, "digits", _folds(cv)
    if model == "gbt":
        est = HistGradientBoostingClassifier(
            learning_rate=float(params["learning_rate"]),
            max_iter=_int(params, "max_iter"),
            max_leaf_nodes=_int(params, "max_leaf_nodes"),
            min_samples_leaf=_int(params, "min_samples_leaf"),
            l2_regularization=float(params["l2_regularization"]),
            max_bins=_int(params, "max_bins"),
            early_stopping=False,
            random_state=0,
        )
        return est, "wine", _folds(cv, repeated_anyway=True)
    if model == "mlp":
        layers = _int(params, "layers")
        width = _int(params, "width")
        est = make_pipeline(
            StandardScaler(),
            MLPClassifier(
                hidden_layer_sizes=(width,) * layers,
                activation=str(params["activation"]),
                solver=str(params["solver"]),
                alpha=float(params["alpha"]),
                learning_rate_init=float(params["learning_rate_init"]),
                batch_size=_int(params, "batch_size"),
                max_iter=30,
                random_state=0,
            ),
        )
        return est, "breast_cancer", _folds(cv)
    raise ValueError(f"unknown model {model!r}; one of {', '.join(SPACES)}")


def evaluate(model, params, cv="3fold"):
    """Cross-validated error of one configuration (a real training per fold)."""
    missing = [k for k in SPACES.get(model, {}) if k not in params]
    if missing:
        raise ValueError(f"params of {model} lack {', '.join(missing)}")
    est, data, folds = build(model, params, cv)
    x, y = _data(data)
    with warnings.catch_warnings():
        # Short MLP trainings stop before convergence by design: that is part of the objective.
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(est, x, y, cv=folds, n_jobs=1)
    err = 1.0 - float(np.mean(scores))
    # A diverged training can score NaN; it is the worst possible classifier, not a crash.
    return err if np.isfinite(err) else 1.0


def _answer(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def serve():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req_id = None
        try:
            req = json.loads(line)
            req_id = req.get("id")
            op = req.get("op")
            if op == "spaces":
                _answer({"id": req_id, "spaces": SPACES})
            elif op == "eval":
                t0 = time.perf_counter()
                err = evaluate(req["model"], req["params"], req.get("cv", "3fold"))
                _answer({"id": req_id, "error": err, "seconds": time.perf_counter() - t0})
            else:
                raise ValueError(f"unknown op {op!r}; use spaces or eval")
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller as a line
            _answer({"id": req_id, "error": None, "message": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    serve()

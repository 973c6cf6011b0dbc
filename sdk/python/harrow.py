"""Harrow's helper for training programs. Standard library only; copy it next to your script.

Under ``harrow agent`` a run gets its parameters and tells back its metrics::

    import harrow

    p = harrow.params({"lr": 0.01, "epochs": 10})  # the sweep's values over your defaults
    for epoch in range(p["epochs"]):
        ...
        harrow.log({"loss": loss, "val_acc": acc}, step=epoch)

Run outside a sweep, ``params()`` returns the defaults and ``log()`` prints JSON lines, so the
same script works on its own. The protocol underneath is documented in README.md.
"""

import json
import os
import sys

__all__ = ["params", "log", "sweep_id", "run_id"]

_warned_fallback = False


def params(defaults=None):
    """Return this run's parameters as a dict.

    Reads the JSON file named by ``HARROW_PARAMS_FILE``. Keys of ``defaults`` that the sweep
    does not set keep their default value. Outside a sweep, returns a copy of ``defaults``
    (or ``{}``).
    """
    merged = dict(defaults or {})
    path = os.environ.get("HARROW_PARAMS_FILE")
    if not path:
        return merged
    with open(path, encoding="utf-8") as f:
        swept = json.load(f)
    if not isinstance(swept, dict):
        raise ValueError("HARROW_PARAMS_FILE %s does not hold a JSON object" % path)
    merged.update(swept)
    return merged


def log(metrics, step=None):
    """Record metrics for this run, e.g. ``log({"loss": 0.31, "acc": 0.9}, step=3)``.

    ``metrics`` maps names to numbers (ints, floats, or anything with ``__float__`` such as
    numpy or torch scalars; NaN and infinities are allowed). ``step`` is a whole number ≥ 0;
    without it the point gets the step after the last one this run logged.

    Under an agent, appends one JSON line to ``HARROW_METRICS_FILE``; otherwise prints the
    same JSON line on stdout.
    """
    if not isinstance(metrics, dict):
        raise TypeError("harrow.log takes a dict of metrics, such as {'loss': 0.3} (got %s)" % type(metrics).__name__)
    record = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or not name:
            raise TypeError("harrow.log: metric names must be non-empty strings (got %r)" % (name,))
        if name in ("step", "_step"):
            raise ValueError("harrow.log: pass the step as log(..., step=N), not as a metric named %r" % name)
        record[name] = _number(name, value)
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, int):
            try:
                as_int = int(step)
            except (TypeError, ValueError):
                as_int = None
            if as_int is None or as_int != step:
                raise TypeError("harrow.log: step must be a whole number (got %r)" % (step,))
            step = as_int
        if step < 0:
            raise ValueError("harrow.log: step must be ≥ 0 (got %d)" % step)
        record["step"] = step
    line = json.dumps(record, allow_nan=True) + "\n"
    _write(line)


def sweep_id():
    """The id of the sweep this run belongs to, or None outside a sweep."""
    return os.environ.get("HARROW_SWEEP_ID")


def run_id():
    """The id of this run, or None outside a sweep."""
    return os.environ.get("HARROW_RUN_ID")


def attempt():
    """This run's attempt: 1 the first time, 2 for the first retry (after a crash), ...

    1 outside a sweep. A program that writes checkpoints by run id resumes when it is above 1.
    """
    value = os.environ.get("HARROW_ATTEMPT")
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


def _number(name, value):
    if isinstance(value, bool):
        raise TypeError("harrow.log: metric %r is a bool; log 1 or 0 instead" % name)
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError("harrow.log: metric %r must be a number (got %s)" % (name, type(value).__name__)) from None
    return number


def _write(line):
    global _warned_fallback
    path = os.environ.get("HARROW_METRICS_FILE")
    if path:
        try:
            # One write() on an O_APPEND descriptor: lines from several processes never interleave.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
            return
        except OSError as err:
            if not _warned_fallback:
                _warned_fallback = True
                print("harrow: cannot append to %s (%s); logging metrics on stdout instead" % (path, err), file=sys.stderr)
    sys.stdout.write(line)
    sys.stdout.flush()

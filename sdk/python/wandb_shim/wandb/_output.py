"""Where the module's records go: metric lines through harrow.log, notices on stderr.

harrow.py owns the wire format; it lives two folders up (sdk/python), which is put on sys.path
here when the run's own path does not already provide a ``harrow`` module.
"""

import os
import sys

try:
    import harrow as _harrow
except ImportError:  # only this folder is on PYTHONPATH (the agent adds just the shim folder)
    sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    import harrow as _harrow

_said = set()


def termlog(message, prefix=True):
    print(("wandb: " if prefix else "") + str(message), file=sys.stderr, flush=True)


def termwarn(message, repeat=True):
    if not repeat:
        if message in _said:
            return
        _said.add(message)
    termlog("WARNING " + str(message))


def termerror(message):
    termlog("ERROR " + str(message))


def warn_once(key, message):
    """One notice per key per process: a loop that logs an image every step warns once."""
    if key in _said:
        return
    _said.add(key)
    termlog("WARNING " + message)


def emit(metrics, step):
    """One metric line: numbers only, already flattened, never named step/_step."""
    if metrics:
        _harrow.log(metrics, step=step)


def sweep_params():
    """The run's parameters (empty outside a Harrow run)."""
    return _harrow.params()


def sweep_id():
    return _harrow.sweep_id() or None


def run_id():
    """This run's id under a Harrow agent, else None (an empty variable counts as unset)."""
    return _harrow.run_id() or None

"""A ``wandb`` stand-in for scripts run by Harrow: W&B training code runs unchanged, and nothing
is sent to any network.

``harrow agent`` puts this folder's parent on the run's PYTHONPATH, so ``import wandb`` lands
here (the agent does not when started with HARROW_WANDB_SHIM=0; see sdk/python/README.md).
Covered: ``init`` (its ``config`` are defaults, the sweep's values win), ``config``, ``log``
(numbers become Harrow metric lines; nested dicts give dotted names), ``summary``,
``define_metric``, ``alert``, ``finish``, ``run``; media, tables and plots are accepted and
skipped with one warning. ``agent(function=...)`` under a Harrow run calls the function once for
that run; elsewhere it raises (Harrow's function agent is not built yet).
"""

import atexit
import enum
import os

from . import _config, _output
from ._config import Config, ConfigError
from ._media import (  # noqa: F401 (re-exported W&B names)
    Artifact,
    Audio,
    Classes,
    Graph,
    Histogram,
    Html,
    Image,
    Molecule,
    Object3D,
    Plotly,
    Table,
    Video,
    box3d,
    plot,
)
from ._run import Run
from ._summary import Summary

__version__ = "0.0.0+harrow"
HARROW_SHIM = True

termlog = _output.termlog
termwarn = _output.termwarn
termerror = _output.termerror


class Error(Exception):
    """W&B's base error."""


class UsageError(Error):
    pass


class CommError(Error):
    pass


class AlertLevel(enum.Enum):
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


class Settings(object):
    """Accepts W&B's settings; none of them changes anything here."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


#: The run's configuration and summary: one object each, filled by init(), so a reference taken
#: before init (``cfg = wandb.config``) sees the values too.
config = Config()
summary = Summary()
run = None
# Tells harrow.agent this is the shim (it finishes the run train() left open, as W&B's agent does).
_HARROW_SHIM = True


def init(project=None, entity=None, config=None, name=None, id=None, tags=None, notes=None, group=None, job_type=None, mode=None, dir=None, reinit=None, config_exclude_keys=None, config_include_keys=None, **kwargs):  # noqa: A002 (W&B's parameter names)
    global run
    if run is not None and not run._finished:
        if reinit in (True, "finish_previous", "create_new"):
            run.finish()
        else:
            return run
    in_sweep = _output.run_id() is not None
    if in_sweep:
        for label, value in (("project", project), ("entity", entity), ("id", id)):
            if value is not None:
                termwarn("Ignoring %s %r when running a sweep." % (label, value), repeat=False)
    defaults = _config.parse_config(config, exclude=config_exclude_keys, include=config_include_keys)
    _shared_config = globals()["config"]
    _shared_config._reset()
    _shared_config._items.update(defaults)
    _shared_config._merge_locked(_output.sweep_params())
    summary._reset()
    disabled = (mode or os.environ.get("WANDB_MODE")) == "disabled"
    run = Run(
        _shared_config,
        summary,
        name=name,
        project=project,
        entity=entity,
        group=group,
        job_type=job_type,
        tags=tags,
        notes=notes,
        disabled=disabled,
        directory=dir,
    )
    return run


def _active(what):
    if run is None or run._finished:
        raise Error("You must call wandb.init() before %s" % what)
    return run


def log(data, step=None, commit=None, sync=None):
    _active("wandb.log()").log(data, step=step, commit=commit)


def define_metric(name, step_metric=None, step_sync=None, hidden=None, summary=None, goal=None, overwrite=None, **kwargs):
    return _active("wandb.define_metric()").define_metric(name, step_metric=step_metric, summary=summary, goal=goal, hidden=hidden)


def alert(title, text, level=None, wait_duration=None):
    _active("wandb.alert()").alert(title, text, level=level, wait_duration=wait_duration)


def finish(exit_code=None, quiet=None):
    global run
    if run is not None:
        run.finish(exit_code=exit_code)


def _finish_at_exit():
    # W&B finishes a run the script left open: its pending row and summary still count.
    if run is not None and not run._finished:
        run.finish()


atexit.register(_finish_at_exit)


def watch(*args, **kwargs):
    pass


def unwatch(*args, **kwargs):
    pass


def save(*args, **kwargs):
    return []


def login(*args, **kwargs):
    return True


def setup(*args, **kwargs):
    return None


def teardown(*args, **kwargs):
    return None


def mark_preempting():
    pass


def log_artifact(*args, **kwargs):
    return _active("wandb.log_artifact()").log_artifact(*args, **kwargs)


def use_artifact(*args, **kwargs):
    return _active("wandb.use_artifact()").use_artifact(*args, **kwargs)


def agent(sweep_id, function=None, entity=None, project=None, count=None):
    """W&B's function agent: ``function`` runs once per run of the sweep, in this process, with
    the run's parameters in ``wandb.config`` (harrow.agent over HTTP; HARROW_URL, HARROW_TOKEN).
    Under a run ``harrow agent`` started, the script is already that run: ``function`` runs once."""
    if function is None:
        raise UsageError("wandb.agent needs function=...; a command agent is `harrow agent SWEEP_ID`")
    if _output.run_id() is None:
        for label, value in (("entity", entity), ("project", project)):
            if value is not None:
                termwarn("wandb.agent: %s %r is ignored; the sweep id names the sweep" % (label, value), repeat=False)
        return _output._harrow.agent(sweep_id, function=function, count=count)
    if count not in (None, 1):
        termwarn("wandb.agent: count=%r is ignored; `harrow agent --count N` limits the runs" % (count,), repeat=False)
    function()
    finish()


def sweep(sweep, entity=None, project=None, prior_runs=None):
    raise NotImplementedError(
        "wandb.sweep() creates a sweep on W&B's servers; with Harrow, write the same config to "
        "sweep.yaml and run `harrow create sweep.yaml`"
    )


def Api(*args, **kwargs):  # noqa: N802 (W&B's name)
    raise NotImplementedError("wandb.Api reads W&B's servers; Harrow's runs are read with `harrow runs` or its HTTP API")


__all__ = [
    "init", "log", "finish", "config", "summary", "run", "define_metric", "alert", "agent", "sweep",
    "watch", "unwatch", "save", "login", "Image", "Table", "Histogram", "Audio", "Video", "Object3D",
    "Html", "Molecule", "Plotly", "Graph", "Artifact", "plot", "AlertLevel", "Settings", "Error",
    "ConfigError",
]

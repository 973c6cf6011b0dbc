"""``wandb.run``: one Harrow run seen through W&B's Run API. Logged rows become Harrow metric
lines (numbers only, nested dicts as dotted names, W&B's step and commit rules)."""

import atexit
import numbers
import os
import sys
import time
import uuid

from . import _media, _output
from ._summary import MetricDefinition


def _number(value):
    """The value as an int or float when it is a number (numpy/torch scalars too), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, (str, bytes)):
        return None
    if hasattr(type(value), "__float__"):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None  # a tensor or array of more than one element
    return None


def _flatten(data, prefix, out):
    for key, value in data.items():
        name = prefix + key
        if isinstance(value, dict):
            _flatten(value, name + ".", out)
        else:
            out[name] = value
    return out


class Run(object):
    def __init__(self, config, summary, name=None, project=None, entity=None, group=None, job_type=None, tags=None, notes=None, disabled=False, directory=None):
        self.id = _output.run_id() or uuid.uuid4().hex[:8]
        self.name = name or self.id
        self.sweep_id = _output.sweep_id()
        self.project = project
        self.entity = entity
        self.group = group
        self.job_type = job_type
        self.tags = tuple(tags or ())
        self.notes = notes
        self.config = config
        self.summary = summary
        self.dir = directory or os.getcwd()
        self.url = None
        self.resumed = False
        self.offline = True
        self.disabled = disabled
        self.start_time = time.time()
        self._step = 0
        self._row = {}
        self._last_step = None  # step of the last emitted line
        self._finished = False
        self._exit_code = None

    # -- logging ------------------------------------------------------------------------------
    @property
    def step(self):
        return self._step

    def log(self, data, step=None, commit=None, sync=None):
        if self._finished:
            raise RuntimeError("wandb.log: this run has finished; call wandb.init() to start another")
        if not isinstance(data, dict) and not hasattr(data, "items"):
            raise TypeError("wandb.log must be passed a dictionary")
        if any(not isinstance(key, str) for key in data):
            raise TypeError("Key values passed to `wandb.log` must be strings.")
        if step is not None:
            step = int(step)
            if step < self._step:
                _output.termwarn(
                    "Tried to log to step %d that is less than the current step %d. Steps must be "
                    "monotonically increasing, so this data will be ignored." % (step, self._step)
                )
                return
            if step > self._step:
                self._commit()
                self._step = step
        self._merge(data)
        if (step is None and commit is None) or commit:
            self._commit()
            self._step += 1

    def _merge(self, data):
        for name, value in _flatten(dict(data.items()), "", {}).items():
            if _media.is_media(value):
                _media.note_skipped()
                continue
            number = _number(value)
            if number is None:
                if value is not None:
                    _output.warn_once(
                        "value:" + name,
                        "wandb.log: %r is a %s, not a number; Harrow records numbers only, so it is skipped" % (name, type(value).__name__),
                    )
                continue
            if name in ("step", "_step"):
                _output.warn_once(
                    "step-metric",
                    "wandb.log: a value named %r is skipped: Harrow keeps the step itself (pass step=N, or "
                    "log it under another name such as 'global_step')" % name,
                )
                continue
            self._row[name] = number

    def _commit(self):
        if not self._row:
            return
        row, self._row = self._row, {}
        for name, value in row.items():
            self.summary._observe(name, value)
        if not self.disabled:
            _output.emit(row, self._step)
        self._last_step = self._step

    # -- W&B's Run API ------------------------------------------------------------------------
    def define_metric(self, name, step_metric=None, step_sync=None, hidden=None, summary=None, goal=None, overwrite=None, **kwargs):
        definition = MetricDefinition(name, step_metric=step_metric, summary=summary, goal=goal, hidden=hidden)
        self.summary._define(definition)
        return definition

    def alert(self, title, text, level=None, wait_duration=None):
        level_name = getattr(level, "value", level) or "INFO"
        _output.termlog("ALERT [%s] %s: %s" % (level_name, title, text))

    def finish(self, exit_code=None, quiet=None):
        if self._finished:
            return
        self._commit()
        self._emit_summary()
        self._finished = True
        if exit_code:
            # W&B marks the run failed; Harrow reads the state from the exit status, so the
            # process exits with this code once the script is done.
            self._exit_code = int(exit_code)
            atexit.register(_exit_with, self._exit_code)

    def _emit_summary(self):
        """One last line for what the history does not hold: define_metric aggregates
        (``loss.min``) and numbers the script put in the summary under names it never logged."""
        extra = {}
        for name, value in self.summary._aggregates().items():
            extra[name] = value
        for name, value in _flatten(self.summary._set_by_script(), "", {}).items():
            number = _number(value)
            if number is not None and name not in self.summary._series and name not in ("step", "_step"):
                extra[name] = number
        if extra and not self.disabled:
            _output.emit(extra, self._last_step if self._last_step is not None else self._step)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.finish(exit_code=1 if exc_type is not None else None)
        return False

    def watch(self, *args, **kwargs):
        pass

    def unwatch(self, *args, **kwargs):
        pass

    def save(self, *args, **kwargs):
        return []

    def restore(self, *args, **kwargs):
        return None

    def log_code(self, *args, **kwargs):
        return None

    def mark_preempting(self):
        pass

    def log_artifact(self, *args, **kwargs):
        _output.warn_once("artifact", "artifacts are not stored by Harrow; log_artifact/use_artifact are skipped")
        return _media.Artifact()

    use_artifact = log_artifact
    link_artifact = log_artifact
    log_model = log_artifact
    use_model = log_artifact

    def get_url(self):
        return None

    def get_project_url(self):
        return None

    def get_sweep_url(self):
        return None

    @property
    def path(self):
        return "/".join(str(p) for p in (self.entity, self.project, self.id) if p)

    def __repr__(self):
        return "<Run %s (harrow)>" % self.id


def _exit_with(code):
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

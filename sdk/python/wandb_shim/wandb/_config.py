"""``wandb.config``: the run's configuration, as W&B's Config behaves under a sweep agent.

The script's defaults (``wandb.init(config=...)``) go in first; the sweep's values are merged over
them (nested dicts recursively, as W&B's ``merge_locked``) and their top-level keys are locked: a
later update of a swept key is ignored with W&B's warning, so the sweep always wins.
"""

from . import _output


class ConfigError(Exception):
    pass


def parse_config(params, exclude=None, include=None):
    """A dict from what ``init(config=...)``/``update`` accept: a mapping, an argparse Namespace or
    any object with attributes; ``exclude``/``include`` filter its keys."""
    if params is None:
        return {}
    if isinstance(params, dict):
        result = dict(params)
    elif hasattr(params, "items") and callable(params.items):
        result = dict(params.items())
    elif hasattr(params, "__dict__"):
        result = {k: v for k, v in vars(params).items() if not k.startswith("_")}
    elif isinstance(params, str):
        raise TypeError(
            "wandb.init(config=%r): a config file is not read under Harrow; load it yourself "
            "(e.g. yaml.safe_load) and pass the dict" % params
        )
    else:
        raise TypeError("config must be a dict, an argparse Namespace or an object with attributes (got %s)" % type(params).__name__)
    if exclude:
        result = {k: v for k, v in result.items() if k not in exclude}
    if include:
        result = {k: v for k, v in result.items() if k in include}
    return result


def _merge(dest, src):
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(dest.get(key), dict):
            _merge(dest[key], value)
        else:
            dest[key] = value
    return dest


class Config(object):
    """Attribute and item access over the run's configuration."""

    def __init__(self):
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_locked", set())

    # -- used by wandb.init -------------------------------------------------------------------
    def _reset(self):
        self._items.clear()
        self._locked.clear()

    def _merge_locked(self, swept):
        for key, value in swept.items():
            key = key.strip("-")
            self._locked.add(key)
            if isinstance(value, dict) and isinstance(self._items.get(key), dict):
                _merge(self._items[key], value)
            else:
                self._items[key] = value

    # -- W&B's API ----------------------------------------------------------------------------
    def _check_locked(self, key):
        if key in self._locked:
            _output.termwarn("Config item '%s' was locked by 'sweep' (ignored update)." % key)
            return True
        return False

    def _set(self, key, value, allow_val_change):
        key = key.strip("-")
        if self._check_locked(key):
            return
        if not allow_val_change and key in self._items and self._items[key] != value:
            raise ConfigError(
                'Attempted to change value of key "%s" from %s to %s\n'
                "If you really want to do this, pass allow_val_change=True to config.update()" % (key, self._items[key], value)
            )
        self._items[key] = value

    def __setitem__(self, key, value):
        self._set(key, value, False)

    def __setattr__(self, key, value):
        self._set(key, value, False)

    def __getitem__(self, key):
        return self._items[key]

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError("%r object has no attribute %r" % (type(self), key)) from None

    def __contains__(self, key):
        return key in self._items

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def __repr__(self):
        return str(self.as_dict())

    def keys(self):
        return [k for k in self._items if not k.startswith("_")]

    def items(self):
        return [(k, v) for k, v in self._items.items() if not k.startswith("_")]

    def values(self):
        return [v for _, v in self.items()]

    def get(self, *args):
        return self._items.get(*args)

    def as_dict(self):
        return dict(self.items())

    def update(self, d, allow_val_change=None):
        for key, value in parse_config(d).items():
            self._set(key, value, allow_val_change)

    def setdefaults(self, d):
        for key, value in parse_config(d).items():
            if key not in self._items:
                self._items[key] = value

    def persist(self):
        pass

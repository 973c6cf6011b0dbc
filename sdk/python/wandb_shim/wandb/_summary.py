"""``wandb.summary``: per metric the last logged value, or the aggregates ``define_metric`` asked
for (``summary="min"`` makes ``summary["loss"]`` the dict ``{"min": ...}``, which W&B sweep files
name ``loss.min``); values set by the script win over both."""

import fnmatch
import math

AGGREGATES = ("min", "max", "mean", "first", "last", "best", "none", "copy")


class MetricDefinition(object):
    """What ``define_metric`` returns."""

    def __init__(self, name, step_metric=None, summary=None, goal=None, hidden=None):
        self.name = name
        self.step_metric = step_metric
        self.goal = goal
        self.hidden = hidden
        self.summary = tuple(s.strip() for s in summary.split(",") if s.strip()) if summary else ()
        for s in self.summary:
            if s not in AGGREGATES:
                raise ValueError("define_metric: unknown summary %r; use one of %s" % (s, ", ".join(AGGREGATES)))
        if goal not in (None, "minimize", "maximize", "min", "max"):
            raise ValueError("define_metric: goal must be 'minimize' or 'maximize' (got %r)" % (goal,))

    def matches(self, key):
        return fnmatch.fnmatchcase(key, self.name) if "*" in self.name else key == self.name

    def __repr__(self):
        return "<MetricDefinition %s>" % self.name


class _Series(object):
    __slots__ = ("first", "last", "min", "max", "total", "count")

    def __init__(self, value):
        self.first = self.last = self.min = self.max = value
        self.total = value
        self.count = 1

    def add(self, value):
        self.last = value
        if not math.isnan(value):
            self.min = value if math.isnan(self.min) else min(self.min, value)
            self.max = value if math.isnan(self.max) else max(self.max, value)
        self.total += value
        self.count += 1


class Summary(object):
    def __init__(self):
        object.__setattr__(self, "_series", {})
        object.__setattr__(self, "_explicit", {})
        object.__setattr__(self, "_definitions", [])

    def _reset(self):
        self._series.clear()
        self._explicit.clear()
        del self._definitions[:]

    def _define(self, definition):
        self._definitions.append(definition)

    def _observe(self, key, value):
        series = self._series.get(key)
        if series is None:
            self._series[key] = _Series(value)
        else:
            series.add(value)

    def _definition(self, key):
        for d in reversed(self._definitions):
            if d.matches(key):
                return d
        return None

    def _computed(self, key):
        series = self._series[key]
        definition = self._definition(key)
        if definition is None or not definition.summary:
            return series.last
        out = {}
        for agg in definition.summary:
            if agg == "none":
                continue
            if agg in ("last", "copy"):
                out["last"] = series.last
            elif agg == "first":
                out["first"] = series.first
            elif agg == "mean":
                out["mean"] = series.total / series.count
            elif agg == "best":
                maximize = definition.goal in ("maximize", "max")
                out["best"] = series.max if maximize else series.min
            else:
                out[agg] = getattr(series, agg)
        return out if out else None

    def _aggregates(self):
        """Flattened ``name.agg`` values define_metric produced (for the run's last metric line)."""
        flat = {}
        for key in self._series:
            value = self._computed(key)
            if isinstance(value, dict):
                for agg, v in value.items():
                    flat["%s.%s" % (key, agg)] = v
        return flat

    def _set_by_script(self):
        return dict(self._explicit)

    # -- dict-like API ------------------------------------------------------------------------
    def keys(self):
        keys = [k for k in self._series if self._computed(k) is not None]
        return keys + [k for k in self._explicit if k not in self._series]

    def __getitem__(self, key):
        if key in self._explicit:
            return self._explicit[key]
        if key in self._series:
            value = self._computed(key)
            if value is not None:
                return value
        raise KeyError(key)

    def __setitem__(self, key, value):
        self._explicit[key] = value

    def __delitem__(self, key):
        self._explicit.pop(key, None)
        self._series.pop(key, None)

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value

    def __contains__(self, key):
        return key in self.keys()

    def __iter__(self):
        return iter(self.keys())

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def items(self):
        return [(k, self[k]) for k in self.keys()]

    def update(self, d=None, **kwargs):
        for key, value in dict(d or {}, **kwargs).items():
            self[key] = value

    def __repr__(self):
        return str(dict(self.items()))

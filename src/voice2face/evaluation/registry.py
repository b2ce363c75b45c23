"""The metric registry: the one place a metric's name is defined (stylegan2-ada's ``metric_main``).

An evaluation metric is a function ``fn(ctx) -> dict`` registered with :func:`evaluation_metric`
under its name, with the labels of the keys that the text table, the report and the model card
show, and whether it needs the model's generator. Adding a metric is one function in
:mod:`voice2face.evaluation.metrics`; nothing else lists or branches on metric names: the names
``voice2face evaluate --metrics`` accepts are the registered ones (:func:`check_metric_names`).
The computations themselves are plain functions in :mod:`voice2face.metrics`.

Running a metric (:func:`run_metric`) turns what it cannot do into a record instead of an
exception: ``{"skipped": reason}`` when this machine lacks something it needs
(:class:`~voice2face.errors.MetricUnavailableError`: weights, a generator), ``{"failed": reason}``
when its inputs do not allow it (:class:`~voice2face.errors.MetricError`), so one metric never
loses the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from voice2face.errors import ConfigError, MetricError, MetricUnavailableError

if TYPE_CHECKING:
    from voice2face.evaluation.context import EvalContext

log = logging.getLogger(__name__)

MetricFn = Callable[["EvalContext"], dict[str, Any]]


@dataclass(frozen=True)
class RegisteredMetric:
    """An evaluation metric: its function, its table labels ``(key, label)``, and whether it needs
    the model's generator (then reference rows record it as skipped)."""

    name: str
    fn: MetricFn
    labels: tuple[tuple[str, str], ...]
    needs_generator: bool = False


class MetricRegistry:
    """Named evaluation metrics, in the order they were registered; a name registered twice is an
    error, not a silent replacement."""

    def __init__(self) -> None:
        self._metrics: dict[str, RegisteredMetric] = {}

    def register(
        self, name: str, *, labels: tuple[tuple[str, str], ...] = (), needs_generator: bool = False
    ) -> Callable[[MetricFn], MetricFn]:
        """Decorator: register ``fn(ctx) -> dict`` as metric ``name`` and return ``fn`` unchanged."""

        def register(fn: MetricFn) -> MetricFn:
            if name in self._metrics:
                raise MetricError(f"Evaluation metric {name!r} is already registered; rename one of the two.")
            self._metrics[name] = RegisteredMetric(name, fn, labels, needs_generator)
            return fn

        return register

    def metrics(self) -> dict[str, RegisteredMetric]:
        """Every registered metric by name, in registration order (the table's order)."""
        return dict(self._metrics)

    def check(self, names: Iterable[str]) -> None:
        """Raise :class:`ConfigError` naming the first of ``names`` that is not registered, and the choices."""
        for name in names:
            if name not in self._metrics:
                raise ConfigError(f"unknown metric {name!r}; choose from {', '.join(self._metrics)}.")

    def run(self, name: str, ctx: EvalContext) -> dict[str, Any]:
        """Metric ``name`` on the row of ``ctx``: its results, or ``{"skipped": why}`` (something this
        machine or row lacks) / ``{"failed": why}`` (inputs it cannot be computed from). A metric
        that returns anything but a dict is a bug in it, and raises :class:`MetricError`."""
        self.check([name])
        metric = self._metrics[name]
        if metric.needs_generator and ctx.generator is None:
            return {"skipped": f"{name} needs a generator; the {ctx.row} row has none."}
        log.info("evaluating %s on %s", name, ctx.row)
        try:
            results = metric.fn(ctx)
        except MetricUnavailableError as exc:
            return {"skipped": str(exc)}
        except MetricError as exc:
            # One metric's failure (e.g. too few images for a covariance) must not lose the others.
            log.warning("%s on %s failed: %s", name, ctx.row, exc)
            return {"failed": str(exc)}
        if not isinstance(results, dict):
            raise MetricError(f"Metric {name!r} returned {type(results).__name__}, not a dict; fix the metric.")
        return results


#: The registry of ``voice2face evaluate``: the built-in metrics register here when
#: :mod:`voice2face.evaluation.metrics` is imported.
METRICS = MetricRegistry()


def evaluation_metric(
    name: str, *, labels: tuple[tuple[str, str], ...] = (), needs_generator: bool = False
) -> Callable[[MetricFn], MetricFn]:
    """Decorator: register ``fn(ctx) -> dict`` as evaluation metric ``name`` (twice is an error)."""
    return METRICS.register(name, labels=labels, needs_generator=needs_generator)


def _builtin() -> MetricRegistry:
    from voice2face.evaluation import metrics  # noqa: F401 — registers the built-in metrics

    return METRICS


def registered_metrics() -> dict[str, RegisteredMetric]:
    """Every evaluation metric, by name, in registration order (the built-in ones are loaded on first use)."""
    return _builtin().metrics()


def check_metric_names(names: Iterable[str]) -> None:
    """Raise :class:`ConfigError` (``unknown metric 'x'; choose from …``) unless every name is registered."""
    _builtin().check(names)


def run_metric(name: str, ctx: EvalContext) -> dict[str, Any]:
    """Run evaluation metric ``name`` on ``ctx`` (see :meth:`MetricRegistry.run`)."""
    return _builtin().run(name, ctx)

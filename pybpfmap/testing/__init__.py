"""Testing helpers: Hypothesis strategies, a map state machine, a pytest plugin.

``pybpfmap.testing.strategies``: ``keys(m)``, ``values(m)``, ``for_type(t)``.
``pybpfmap.testing.MapModel``: a ``RuleBasedStateMachine`` checking a live
map against a model of the kernel's semantics.  The pytest plugin
(``pybpfmap.testing.plugin``, registered as a ``pytest11`` entry point)
gives the fixtures ``bpf_map`` and ``bpf_object`` and the marker
``needs_bpf``.  Hypothesis is needed for the first two only.
"""

__all__ = ["MapModel", "strategies"]


def __getattr__(name):
    # imported lazily: the pytest plugin must not need Hypothesis
    if name == "MapModel":
        from .model import MapModel
        return MapModel
    if name == "strategies":
        import importlib
        return importlib.import_module(f"{__name__}.strategies")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

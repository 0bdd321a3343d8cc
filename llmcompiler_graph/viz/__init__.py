"""Pictures of a run: the plan's task DAG and a Gantt timeline (matplotlib only).

>>> from llmcompiler_graph.viz import Timeline, plot_plan_dag, plot_timeline
>>> timeline = Timeline()
>>> out = timeline.run(app, {"messages": [("user", "question")]})  # doctest: +SKIP
>>> plot_plan_dag(out)  # doctest: +SKIP
>>> plot_timeline(timeline)  # doctest: +SKIP

``plot_benchmark(summary)`` draws the benchmark suite's summary (latency, tokens, ideal).

Matplotlib comes with the ``bench`` extra (``pip install 'llmcompiler-graph[bench]'``); it is
imported only when a figure is drawn. Figures are ``matplotlib.figure.Figure`` objects made
without pyplot: Jupyter shows them, ``figure.savefig(path)`` saves them.
"""

from llmcompiler_graph.viz.benchmark import plot_benchmark
from llmcompiler_graph.viz.dag import plot_plan_dag
from llmcompiler_graph.viz.gantt import plot_timeline, to_spans
from llmcompiler_graph.viz.spans import Span
from llmcompiler_graph.viz.timeline import Timeline

__all__ = ["Span", "Timeline", "plot_benchmark", "plot_plan_dag", "plot_timeline", "to_spans"]

"""The whole flow on one screen.

load -> assess_quality --(unusable)------------------------------------------> report
             |                                                                  ^
             +--> measure -> retrieve -> interpret -> verify --(no contradiction)+
                                                        ^   |
                                                        |   +--(contradicted, rounds left)
                                                        +------ revise <-------+
"""

from __future__ import annotations

from functools import cache
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import RetryPolicy

from agent import nodes
from agent.context import Context
from agent.state import InputState, State


def _model_retry() -> RetryPolicy:
    """Retry a model call only when the endpoint was unreachable (never on a 4xx/garbage)."""
    from gem_core.backends.base import BackendUnavailable

    return RetryPolicy(max_attempts=2, initial_interval=1.0, retry_on=(BackendUnavailable,))


def build_graph() -> StateGraph[State, Context, InputState, State]:
    """The uncompiled graph; callers compile it with their checkpointer."""
    builder = StateGraph(State, context_schema=Context, input_schema=InputState)
    builder.add_node("load", nodes.load)
    builder.add_node("assess_quality", nodes.assess_quality)
    builder.add_node("measure", nodes.measure)
    builder.add_node("retrieve", nodes.retrieve)
    builder.add_node("interpret", nodes.interpret, retry_policy=_model_retry())
    builder.add_node("verify", nodes.verify)
    builder.add_node("revise", nodes.revise, retry_policy=_model_retry())
    builder.add_node("report", nodes.report)

    builder.add_edge(START, "load")
    builder.add_edge("load", "assess_quality")
    builder.add_conditional_edges("assess_quality", nodes.route_quality)
    builder.add_edge("measure", "retrieve")
    builder.add_edge("retrieve", "interpret")
    builder.add_edge("interpret", "verify")
    builder.add_conditional_edges("verify", nodes.route_verification)
    builder.add_edge("revise", "verify")
    builder.add_edge("report", END)
    return builder


@cache
def _compiled_once() -> CompiledStateGraph[State, Context, InputState, State]:
    return build_graph().compile()


def compiled_graph(
    checkpointer: BaseCheckpointSaver[Any] | None = None,
) -> CompiledStateGraph[State, Context, InputState, State]:
    """The graph compiled once per process, bound to ``checkpointer`` for this run.

    Compiling costs about 7 ms (LangGraph inspects every node's signature); a run reuses the
    compiled graph and only swaps the checkpointer (a shallow copy, safe across threads).
    """
    base = _compiled_once()
    return base if checkpointer is None else base.copy(update={"checkpointer": checkpointer})

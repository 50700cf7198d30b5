"""gem-agent: the LangGraph state machine that measures, retrieves, interprets and verifies."""

__version__ = "0.1.0"

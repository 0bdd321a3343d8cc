"""Benchmarks and the offline demo: LLMCompiler against ReAct and parallel tool calling (simulated)."""

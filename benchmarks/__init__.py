"""Benchmarks and the offline demo: LLMCompiler vs ReAct and parallel tool calling (simulated)."""

"""flowscribe: flow-first runtime tracing for Python apps."""

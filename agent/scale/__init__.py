"""Where batch instances, agentic problems and grading chunks run: this process, or a Ray cluster."""

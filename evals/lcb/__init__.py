"""LiveCodeBench-compatible problems, grading and pass@k (see ARCHITECTURE.md, "Evals")."""

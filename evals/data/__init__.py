"""The bundled LiveCodeBench-format problem set: readable sources in problems/, built by build.py."""

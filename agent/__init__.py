"""The agent: its vocabulary (core), tool-call intake, model backends, policies, the loop, and the
headless and interactive front ends built on it (see agent/README.md)."""

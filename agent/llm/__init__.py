"""Model backends: one protocol, several implementations (scripted, openai, vllm)."""

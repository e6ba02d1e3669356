"""The headless run (`trident run`, batches): workspace copy, agent, trident's own verification, verdict."""

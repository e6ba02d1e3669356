"""Tools the model can call: each a class with a pydantic argument model and a markdown description."""

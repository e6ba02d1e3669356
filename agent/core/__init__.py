"""The vocabulary every part speaks: events, chat messages and the backend protocol, the trajectory."""

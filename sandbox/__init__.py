"""Where tools act: one interface (`Sandbox`), Docker and local implementations."""

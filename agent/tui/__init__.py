"""The Textual TUI: `trident` / `trident chat`. UI only; the session logic is in agent/session/."""

"""The interactive session under the TUI: conversation, approvals, /compact, /undo, /resume, @mentions."""

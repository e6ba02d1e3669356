"""After a tool call written as text, the next turn is asked for a real one (`tool_choice`).

A model that wrote its call as text was told so (a `text_call` correction, `policies.text_calls`).
On the next turn only, the request says `tool_choice: "required"`: a server that constrains decoding
to the tool-call format (vLLM's structured outputs, the embedded engine's grammar, Mistral's API)
then produces a well-formed, schema-shaped call, the one the model meant to make, instead of
the same text again. Servers that cannot constrain read it as a hint (or the backend leaves the
field out: `openai.tool_choice_required`). Any other turn is "auto": the model may always answer.

The choice is recorded on `StepStart`, so a trajectory shows what each turn was asked for, and it is
folded from events, so a resumed run asks the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from trident.agent.core.events import AssistantTurn, Correction, Event, ToolChoice


@dataclass
class CallChoicePolicy:
    _after_text_call: bool = False

    def observe(self, event: Event) -> None:
        if isinstance(event, Correction):
            self._after_text_call = event.kind == "text_call"
        elif isinstance(event, AssistantTurn):
            self._after_text_call = False

    def next_choice(self) -> ToolChoice:
        """What the next model turn is asked for."""
        return "required" if self._after_text_call else "auto"

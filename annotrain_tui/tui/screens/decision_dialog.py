"""The decision dialog: graduate, retake or hold one trainee, with an optional note (keyboard only:
Enter records, Escape cancels). It answers the note ("" without one), or None when cancelled."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static

from annotrain_tui.core.decisions import DecisionRow
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.dialogs import Dialog
from annotrain_tui.tui.widgets.inputs import SafeInput

#: what each decision does, said in the dialog
MEANING = {
    "graduate": "ready for production (Act, 6 on Home, then adds them to the production projects)",
    "retake": "another round (Act, 6 on Home, then gives them a new training project)",
    "hold": "wait for more evidence (nothing is done)",
}


class DecisionDialog(Dialog["str | None"]):
    """Record ``decision`` on ``row``'s trainee: the dialog says their round, computed status and
    its reason, the suggestion (and that this overrides it), and the decision it replaces."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="decision.cancel")]
    WIDGET_HELP = {
        "decision-note": "An optional note kept with the decision in the programme's record (why, what to "
                         "fix). Enter records the decision, Escape cancels and records nothing.",
    }

    def __init__(self, decision: str, row: DecisionRow) -> None:
        super().__init__()
        self.decision, self.row = decision, row

    def body(self) -> Text:
        row = self.row
        t = Text()
        t.append(f"Round {row.round}: ")
        t.append(row.status, style="bold")
        if row.reason:
            t.append_text(lit(f" ({row.reason})"))
        t.append(f". {row.complete}/{row.total} task(s) Complete.\n")
        t.append(f"{self.decision.capitalize()}: {MEANING.get(self.decision, '')}.\n")
        if row.suggested is None:
            t.append("Not scored yet: there is no suggestion to follow.\n", style="yellow")
        elif row.suggested != self.decision:
            t.append(f"The status suggests {row.suggested}: this overrides it.\n", style="yellow")
        if row.decided and row.decision is not None:
            t.append(f"Replaces the decision made on this round: {row.decision.decision}", style="yellow")
            if row.decision.note:
                t.append_text(lit(f" ({row.decision.note})", "yellow", limit=80))
            t.append(".\n", style="yellow")
        if row.graduated and self.decision != "graduate":
            t.append("They have graduated already: this decision will be refused.\n", style="red")
        return t

    def compose(self) -> ComposeResult:
        with Vertical():
            title = Text(f"{self.decision.capitalize()} ")
            title.append_text(lit(self.row.email, limit=60))
            yield Static(title, classes="dialog-title")
            yield Static(self.body(), id="decision-body")
            yield Label("Note (optional)")
            yield SafeInput(value="", id="decision-note", placeholder="why, or what to fix")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button(lit(f"Record {self.decision} (enter)"), id="record", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#decision-note", SafeInput).focus()

    def note(self) -> str:
        return self.query_one("#decision-note", SafeInput).value.strip()

    def on_input_submitted(self, event: SafeInput.Submitted) -> None:
        event.stop()
        self.dismiss(self.note())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.note() if event.button.id == "record" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)

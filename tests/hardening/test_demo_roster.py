"""Found by a trial: `sandbox init --demo` replaced the user's edited demo-roster.csv silently, and
wrote through a symlink there into a file of theirs. The demo roster is written only where no file
or link is."""

from __future__ import annotations

from annotrain_tui.cli import main
from annotrain_tui.core.config import Paths


def test_an_existing_demo_roster_or_link_is_kept(capsys, tmp_path):
    roster = Paths.default().data_dir / "demo-roster.csv"
    roster.parent.mkdir(parents=True, exist_ok=True)
    roster.write_text("name,email\nMy Edit,me@example.com\n")
    assert main(["--sandbox", str(tmp_path / "a.db"), "sandbox", "init", "--demo"]) == 0
    assert roster.read_text() == "name,email\nMy Edit,me@example.com\n"

    precious = tmp_path / "precious.txt"
    precious.write_text("precious\n")
    roster.unlink()
    roster.symlink_to(precious)
    assert main(["--sandbox", str(tmp_path / "b.db"), "sandbox", "init", "--demo"]) == 0
    assert precious.read_text() == "precious\n" and roster.is_symlink()

    roster.unlink()  # none there: the demo roster is written
    assert main(["--sandbox", str(tmp_path / "c.db"), "sandbox", "init", "--demo"]) == 0
    assert roster.read_text().startswith("name,email\n") and "example.com" in roster.read_text()
    capsys.readouterr()

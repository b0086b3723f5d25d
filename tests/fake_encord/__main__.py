"""Run the fake on 127.0.0.1 by hand, to try annotrain's encord backend without an Encord account.

    python -m tests.fake_encord DIR [--forbidden] [--renamed-stages] [--moves-untouched]

Writes an Ed25519 key to DIR/id_ed25519 (registered with the fake), seeds the demo programme
(tests.fake_encord.fixtures.seed) and prints the settings to use; Ctrl+C stops it. Not used by the
tests (they start the fake in-process).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from tests.fake_encord.fixtures import seed
from tests.fake_encord.keys import write_key
from tests.fake_encord.server import FakeEncord


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_encord")
    parser.add_argument("dir", type=Path, help="where to write the key file")
    parser.add_argument("--forbidden", action="store_true", help="add a project where you are an annotator only")
    parser.add_argument("--renamed-stages", action="store_true", help="add a programme whose stages are renamed")
    parser.add_argument("--moves-untouched", action="store_true",
                        help="stage moves do not change last_edited_at (ws.stage_move_touches_row = False)")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    key = write_key(args.dir / "id_ed25519")
    fake = FakeEncord()
    fake.register_key(key.public_hex)
    demo = seed(fake)
    fake.ws.stage_move_touches_row = not args.moves_untouched
    if args.forbidden:
        fake.ws.add_project("Someone else's QA", ontology=demo.ontology, datasets=[demo.dataset], role=1)
    if args.renamed_stages:
        tpl = fake.ws.add_template([("Label", "ANNOTATION"), ("QA", "REVIEW"), ("Done", "DONE")])
        fake.ws.add_project("Gold (renamed stages)", ontology=demo.ontology, datasets=[demo.dataset],
                            stages=fake.ws.templates[tpl])
    fake.start()
    print(f"fake Encord at {fake.url}")
    print(f"  annotrain --backend encord --domain {fake.url} --ssh-key {key.path} status")
    print(f"  template hash: {demo.template}")
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

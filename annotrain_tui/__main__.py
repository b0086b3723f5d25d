import sys

from annotrain_tui.cli import main

if __name__ == "__main__":
    sys.exit(main())

import sys

from cnilint.cli import main

sys.exit(main())

import sys

from audiogen_cli import main

sys.exit(main())

import sys

from audiogen_tf.cli import main

sys.exit(main())

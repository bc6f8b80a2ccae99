import sys

from snitch.pipeline.cli import main

sys.exit(main())

import sys

from waconv.cli.main import main

sys.exit(main())

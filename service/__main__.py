import sys

from feedbackql.cli import main

sys.exit(main())

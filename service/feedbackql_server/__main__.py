import sys

from feedbackql_server.cli import main

sys.exit(main())

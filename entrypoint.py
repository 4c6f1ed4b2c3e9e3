#!/usr/bin/env python3
"""Container entrypoint: hands the arguments to the gitops CLI."""

import sys

from gitops.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

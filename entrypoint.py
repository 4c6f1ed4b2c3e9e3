#!/usr/bin/env python3
"""Container entrypoint: with no arguments, run the CI action; otherwise the gitops CLI."""

import sys

from gitops.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["action"]))

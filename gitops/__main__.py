from gitops.cli import run

run()

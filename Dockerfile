# The gitops container action (GitHub) and CI image (GitLab).
#
# GitHub's rules for Docker actions: no USER (the job runs as root, or the mounted
# /github/workspace is not writable), no WORKDIR (the runner mounts the workspace and makes it
# the working directory), an absolute exec-form ENTRYPOINT. `uses: OWNER/NAME@vX.Y.Z`
# (action.yml) builds this file on every job, so it stays small and quick to build; the release
# workflow builds it once per version and pushes ghcr.io/OWNER/NAME:vX.Y.Z, which
# `uses: OWNER/NAME/image@vX.Y.Z` (image/action.yml) and the GitLab component run. Pin by
# version here; a release can also pin the base image by digest
# (python:3.12.12-slim-bookworm@sha256:...).
FROM python:3.12.12-slim-bookworm

# git is the only system package we need (the registry is read from tags with `git`).
# Debian's versions are not pinned (DL3008): a pinned version disappears from the mirror when
# Debian ships a security update, which would break every user's build of this action.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

COPY . /action

# One command, replayed in a clean virtualenv by tests/test_packaging.py (there is no Docker
# engine on our machines). No pip cache in the image; no bytecode compiled at build time: the
# runner builds the image for every job, so compiling all of site-packages there costs more than
# compiling the few modules one run imports.
RUN pip install --no-cache-dir --no-compile --disable-pip-version-check --root-user-action=ignore /action

# No arguments: entrypoint.py runs `gitops action`, which reads the INPUT_* variables.
# GitLab's Docker executor needs a shell instead: the GitLab component sets `entrypoint: [""]`
# and runs `gitops action` (the console script is on PATH).
ENTRYPOINT ["/usr/local/bin/python", "/action/entrypoint.py"]

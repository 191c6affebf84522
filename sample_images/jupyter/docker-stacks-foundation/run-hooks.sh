#!/bin/sh
# Stand-in for docker-stacks' run-hooks.sh: run every script in a directory.
for f in "$1"/*; do
    [ -x "$f" ] && "$f"
done
exit 0

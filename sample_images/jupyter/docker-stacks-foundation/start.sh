#!/bin/sh
# Stand-in for docker-stacks' start.sh.
/usr/local/bin/run-hooks.sh /usr/local/bin/before-notebook.d
exec "$@"

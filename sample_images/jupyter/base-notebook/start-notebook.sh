#!/bin/sh
exec /usr/local/bin/start-notebook.py "$@"

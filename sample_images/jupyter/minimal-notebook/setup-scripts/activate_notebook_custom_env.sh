#!/bin/sh
# Stand-in for setup_julia.py / setup-scripts
echo "nothing to set up"

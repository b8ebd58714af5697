#!/bin/sh
# Runs a Python test script with the system Python 3 (which has PyYAML).
exec /usr/bin/python3 "$@"

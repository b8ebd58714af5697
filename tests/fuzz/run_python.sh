#!/bin/sh
# Runs a Python test script with the system Python 3.
exec /usr/bin/python3 "$@"

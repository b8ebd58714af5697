#!/bin/sh
# Runs a Python test script (the first argument) with the system Python 3, so
# the tests need no Python toolchain in Bazel.
exec /usr/bin/python3 "$@"

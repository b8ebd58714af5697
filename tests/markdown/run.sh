#!/bin/sh
# Runs markdown_test.py (the first argument) with the system Python 3, so the
# tests need no Python toolchain in Bazel.
exec /usr/bin/python3 "$@"

"""Semantic analysis: attach points, types, maps and calls are checked here.

After this stage a program is valid; later stages treat anything else as a
pytrace bug, not a user error.
"""

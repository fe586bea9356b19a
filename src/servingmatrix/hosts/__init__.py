"""The hosts of a multi-host run: which Docker engines it uses, what each one does, and its cores.

A run on one machine needs none of this: without an inventory the single local engine serves, loads
and backs the server as it always has.
"""

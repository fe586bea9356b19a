"""Simulated hosts: extra Docker engines on this machine, each in a network namespace of its own.

A multi-host run needs several Docker engines at distinct addresses. On one machine they are simulated:
every engine gets a network namespace, an address on a private switch, and data, exec and state roots
of its own, so a run can be tried, and tested, without a second machine. They share one kernel, so each
is given a core of its own in the inventory (``cpuset``) rather than pretending to be a separate box.
"""

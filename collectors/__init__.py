"""SNMP polling and trap reception: targets in, plain results out.

This package talks to devices and knows nothing of ``monitor``: it must never import it.
"""

"""The shop's flows, one module each."""

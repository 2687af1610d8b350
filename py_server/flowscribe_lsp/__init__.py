"""flowscribe's language server: runtime failures, flow lenses and catalog checks in the editor."""

__version__ = "0.1.0"

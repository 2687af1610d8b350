"""flowscribe's language server: runtime failures, flow lenses and catalog checks in the editor."""

from flowscribe import __version__  # one version for the runtime, the server and the package

__all__ = ["__version__"]

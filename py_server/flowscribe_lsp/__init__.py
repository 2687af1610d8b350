"""flowscribe's language server: runtime failures, flow lenses and catalog checks in the editor."""

"""One LSP feature per module, each over the server's shared index."""

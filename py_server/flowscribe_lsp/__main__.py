"""``python -m flowscribe_lsp``: serve LSP over stdio."""

from flowscribe_lsp.server import run

if __name__ == "__main__":
    run()

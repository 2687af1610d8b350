"""A tiny shop for the MCP server's tests: price the carts, charge them.

    python main.py

With ``BUG = True`` in ``shop/pick.py`` the cart of ``user=u7`` loses its items in
``pick`` and ``charge`` detects DATA.EMPTY; its reason and evidence hold secrets that
must never reach an agent.
"""

import sys

from shop import pick

import flowscribe


def main() -> int:
    flowscribe.init(app_name="shop", mode="dev")
    for user in ("u1", "u7", "u9"):
        with flowscribe.flow("shop/checkout", user=user):
            with flowscribe.flow("shop/pick", user=user) as f:
                items = pick.items(f, user)
            with flowscribe.flow("shop/charge", user=user) as f:
                if not items:
                    # Built at runtime so the secrets are in the trace's input, not this
                    # source (which a story quotes as code).
                    password, key = "".join(["hun", "ter2"]), "sk-live-" + "abcdef0123" * 3
                    f.failure("DATA.EMPTY", f"nothing to charge; login was password={password}",
                              api_key=key, items=0)
                else:
                    f.success("charged", items=len(items))
    flowscribe.end_session()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A regional sales report: load orders, keep one region's, render the report.

    python main.py [--bug] [--busy]

Root cause with --bug (written down before running): the region filter in
``pipeline/select.py`` keeps every row *except* the region's (``!=`` for ``==``), so the
report for that region comes out empty and ``render`` detects DATA.EMPTY.
"""

import sys

from pipeline import load, render, select

import flowscribe


def build(region: str, bug: bool) -> None:
    with flowscribe.flow("report/build", region=region):
        with flowscribe.flow("report/load", region=region) as f:
            rows = load.orders(f, region)
        with flowscribe.flow("report/select", region=region) as f:
            kept = select.for_region(f, rows, region, bug=bug)
        with flowscribe.flow("report/render", region=region) as f:
            render.report(f, kept, region)


def main() -> int:
    bug, busy = "--bug" in sys.argv, "--busy" in sys.argv
    flowscribe.init(app_name="sales-report", mode="dev")
    regions = [f"R{n:02d}" for n in range(40)] if busy else []
    for region in regions[:20]:
        build(region, bug=False)
    build("EMEA", bug=bug)
    for region in regions[20:]:
        build(region, bug=False)
    flowscribe.end_session()
    return 0


if __name__ == "__main__":
    sys.exit(main())

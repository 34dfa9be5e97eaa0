"""`python -m benchmarks.fast_server N ORDER`: the fast demo platform (pages rendered before
serving) in a process of its own; prints its base URL and API key once it serves."""

from __future__ import annotations

import sys
import time

from lowdash_desktop.demo.fastfeed import FastDemoPlatform


def main() -> int:
    n, order = int(sys.argv[1]), sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    started = time.perf_counter()
    platform = FastDemoPlatform(seed=9, generations=n, order=order, page_limit=limit)
    base_url = platform.start(0)
    print(base_url, flush=True)
    print(platform.api_key, flush=True)
    print(f"{platform.feed_length} {time.perf_counter() - started:.1f}", flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    finally:
        platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

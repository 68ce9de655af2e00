"""GapLens benchmark harness: synthetic stores at three scales, GapLens measured against baselines.

Run ``python -m benchmarks.run --scale S|M|L [--json FILE] [--tiny]``. Generated data goes to a
work folder under ``/tmp`` (never into the repository); ``benchmarks/RESULTS.md`` holds the latest
results.
"""

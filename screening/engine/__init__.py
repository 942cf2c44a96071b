"""The screening engine: run configuration, the per-chunk pipeline, the streaming loop, ranking and the
run folder's contract (:mod:`~magnetscreen.screening.engine.contract`). It imports nothing of the report,
the benchmarks or the command line."""

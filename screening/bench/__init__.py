"""``magnetscreen bench``: stage timings of the real pipeline (through its timer hook), baselines measured
in the same run, end-to-end runs, scaling, and the benchmark record's schema."""

"""Retrospective campaign benchmark: acquisition rules against random selection on compositions of known value.

    python benchmarks/bench_campaign.py [--pool curie|Js_T|K1_MJm3] [--seeds 5] [--budget 300] [--batch 10]
                                        [--out campaign-bench.json]

Same code as ``magnetscreen bench --campaign`` (see magnetscreen.screening.bench.campaign and
docs/campaigns.md): the labels are hidden, a seeded seed set is measured, every rule picks batches with a
model learned on what was measured so far; experiments to the first of the top 1 %, half of it and the best,
acceleration factors over random selection (exact random expectation) and enhancement factors per round, with
the spread over seeds; discovery curves as PNG and HTML beside the record.
"""

from __future__ import annotations

import sys

from magnetscreen.screening.cli.bench import main

if __name__ == "__main__":
    sys.exit(main(["--campaign", *sys.argv[1:]]))

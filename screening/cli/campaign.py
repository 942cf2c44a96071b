"""``magnetscreen campaign``: discovery campaigns in rounds (init, propose, record, status, replay)."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["add_parser", "run"]

#: Exit code of ``campaign replay`` when a recomputed proposal differs from the recorded one.
REPLAY_DIFFERS = 4


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``campaign`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser(
        "campaign", help="discovery campaigns: propose, record measurements, learn, repeat",
        description="A campaign folder holds numbered, immutable rounds. propose refits the models on the shipped "
        "data plus every measurement recorded, screens the configuration and writes the next batch (acquisition "
        "rule with batch diversity; docs/campaigns.md); record appends a file of measurements (validated like "
        "magnetscreen data check); status shows the rounds, the best measured so far and the models' error on "
        "each round's measurements before they were learned; replay recomputes every round and compares the "
        "proposals byte for byte (exit code 4 if one differs).",
        epilog="examples: magnetscreen campaign init examples/campaign-2-14-1.toml my-campaign | "
        "magnetscreen campaign propose my-campaign | magnetscreen campaign record my-campaign round1.csv")
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    q = sub.add_parser("init", help="start a campaign folder from a configuration with a [campaign] table")
    q.add_argument("config", metavar="CONFIG.toml")
    q.add_argument("folder", metavar="DIR")
    for name, text in (("propose", "refit, screen and write the next round's batch"),
                       ("status", "rounds, best measured values, errors before learning"),
                       ("replay", "recompute every round and compare the proposals byte for byte")):
        q = sub.add_parser(name, help=text)
        q.add_argument("folder", metavar="DIR")
        if name != "propose":
            q.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    q = sub.add_parser("record", help="append a file of measurements (CSV or Parquet)")
    q.add_argument("folder", metavar="DIR")
    q.add_argument("measurements", metavar="MEASUREMENTS.csv")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import magnetscreen.screening.campaign as campaign

    if args.action == "init":
        folder = campaign.init(args.config, args.folder)
        meta = json.loads((folder / "campaign.json").read_text(encoding="utf-8"))
        print(f"campaign started in {folder} (rule {meta['campaign']['rule']}, objective "
              f"{meta['campaign']['objective']}, batches of {meta['campaign']['batch_size']}, as of {meta['as_of']}); "
              f"next: magnetscreen campaign propose {folder}")
        return 0
    if args.action == "propose":
        path, proposal = campaign.propose(args.folder)
        import pandas as pd

        with pd.option_context("display.width", 220, "display.max_columns", None, "display.max_colwidth", 90):
            print(proposal[["pick", "formula", "family", "acquisition", "mean", "sigma", "why"]].to_string(index=False))
        print(f"\n{len(proposal)} candidates in {path / 'proposal.csv'}; after measuring: magnetscreen campaign record "
              f"{args.folder} MEASUREMENTS.csv", file=sys.stderr)
        return 0
    if args.action == "record":
        info = campaign.record(args.folder, args.measurements)
        print(f"recorded {info['rows']} rows as measurements/{info['file']} (after round {info['after_round']}, "
              f"sha256 {info['sha256'][:12]})")
        return 0
    if args.action == "status":
        report = campaign.status(args.folder)
        if args.format == "json":
            print(json.dumps(report, indent=2))
            return 0
        c = report["campaign"]
        print(f"{report['folder']}: rule {c['rule']}, objective {c['objective']}, batches of {c['batch_size']}, "
              f"as of {report['as_of']}; {len(report['rounds'])} rounds, {report['measurement_files']} measurement "
              "files")
        for r in report["rounds"]:
            print(f"  round {r['round']}: {r['proposed']} proposed of {r['candidates']} candidates "
                  f"({r['measurement_files_used']} measurement files learned), {r['created']}")
        for target, b in report["best_measured"].items():
            print(f"  best {target} measured: {b['value']:g} ({b['formula']}, {b['measurements']})")
        for e in report["errors_before_learning"]:
            print(f"  round {e['round']} {e['target']}: MAE {e['mae']:.4g} on {e['n']} measured proposals before they "
                  f"were learned, {100 * e['within_1sigma']:.0f} % within 1 sigma")
        return 0
    results = campaign.replay(args.folder)
    if args.format == "json":
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"round {r['round']}: {'identical' if r['identical'] else 'DIFFERS'} "
                  f"(sha256 {r['replayed_sha256'][:12]})")
    return 0 if all(r["identical"] for r in results) else REPLAY_DIFFERS

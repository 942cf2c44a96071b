"""Printing, comparing and plotting benchmark records.

- :func:`summary_lines`: the record as text, ours against each baseline as "N.Nx", with n, cores and
  library versions.
- :func:`compare`: per-stage ratios between two records, flagging a change when the ratio of the median
  rates lies outside the measured noise of both records.
- :func:`write_plots`: candidates/s against workers and peak memory against candidate count, as a PNG
  (matplotlib) and an offline HTML page (plotly, with plotly.js embedded). PNG export through plotly
  needs kaleido, which is often not installed, so the PNG is drawn with matplotlib from the same data.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["summary_lines", "compare", "write_plots", "NOISE_FLOOR"]

#: Relative noise assumed for a record measured once (no spread to measure).
NOISE_FLOOR = 0.05
STAGE_LABELS = {"enumerate_encode": "enumerate + encode", "featurize": "featurize", "predict": "predict with sigma",
                "physics": "physics", "risk": "HREE + supply risk", "rank": "requirements + rank",
                "end_to_end": "end to end"}


def _rate(x: float) -> str:
    for scale, unit in ((1e9, " billion"), (1e6, " million"), (1e3, " thousand")):
        if x >= scale:
            return f"{x / scale:.3g}{unit}/s"
    return f"{x:.3g}/s"


def _mib(x: int | None) -> str:
    return "-" if x is None else f"{x / 2**20:.0f} MiB"


def summary_lines(record: dict) -> list[str]:
    """The record as printable lines."""
    m, v, c = record["machine"], record["versions"], record["config"]
    out = [f"magnetscreen bench: {c['n']:,} candidates ({c['size']}), stages on {c['stage_n']:,}, "
           f"{c['repeats']} repeat(s), chunks of {c['chunk_size']}",
           f"machine: {m['cpu_model']}, {m['cores']} cores, {_mib(m['memory_bytes'])} memory, {m['os']}",
           "versions: " + ", ".join(f"{k} {v[k] or 'not installed'}" for k in
                                     ("magnetscreen", "numpy", "numba", "scikit-learn", "pymatgen", "matminer", "dask")
                                     if k in v),
           "", f"{'stage':<22}{'candidates/s (median)':>24}{'min..max':>26}{'us/candidate':>14}{'peak memory':>13}"
           f"{'of bound':>10}"]
    for name, s in record["stages"].items():
        r = s["candidates_per_s"]
        peak = s.get("peak_memory_bytes", s.get("peak_rss_bytes"))
        span = f"{r['min']:,.0f}..{r['max']:,.0f}"
        out.append(f"{STAGE_LABELS.get(name, name):<22}{r['median']:>24,.0f}{span:>26}"
                   f"{s['seconds_per_candidate']['median'] * 1e6:>14.3g}"
                   f"{_mib(peak):>13}" + (f"{100 * s['bound']['fraction']:>9.1f}%" if "bound" in s else ""))
    out.append("")
    out.append("baselines (same run):")
    for key, b in record["baselines"].items():
        if b["status"] != "measured":
            out.append(f"  {key}: skipped ({b['reason']}), no ratio")
            continue
        marked = ", sample extrapolated per candidate" if b.get("extrapolated") else ""
        line = f"  {key}: {b['library']}: n={b['n']}{marked}, {_rate(b['candidates_per_s'])}; ratio {b['ratio']:.1f}x"
        if key == "predict":
            line += f" (ours {_rate(b['ours_candidates_per_s'])}, identical output: {b['identical_output']})"
        if "ratio_per_worker" in b:
            line += f" ({b['ratio_per_worker']:.1f}x at 1 worker)"
        out.append(line)
    bw = record["bandwidth"]
    out.append(f"memory bandwidth (numpy, 1 thread): fill {bw['fill_bytes_per_s'] / 1e9:.1f} GB/s, copy "
               f"{bw['copy_bytes_per_s'] / 1e9:.1f} GB/s; featurizer writes {bw['featurizer_bytes_per_s'] / 1e9:.2f} "
               f"GB/s = {100 * bw['featurizer_share_of_fill']:.0f} % of the fill bound")
    sc = record["scaling"]
    out.append("scaling with candidates (workers=1): " + "; ".join(
        f"n={r['n']:,}: {r['seconds_per_candidate']['median'] * 1e6:.3g} us/cand, {_mib(r['peak_rss_bytes'])}"
        for r in sc["counts"]))
    out.append("scaling with workers (joblib): " + "; ".join(
        f"{r['workers']}: {_rate(r['candidates_per_s']['median'])}, speedup {r['speedup']:.2f}x, efficiency "
        f"{100 * r['efficiency']:.0f} %" for r in sc["workers"]))
    d = sc["dask"]
    if d["status"] == "measured":
        out.append(f"Dask ({d['scheduler']}, {d['workers']} workers): {_rate(d['candidates_per_s']['median'])}, "
                   f"time {d['overhead_ratio']:.2f}x joblib at {d['joblib_workers']} workers")
    else:
        out.append(f"Dask: skipped ({d['reason']})")
    for kind, path in record.get("plots", {}).items():
        out.append(f"plot ({kind}): {path}")
    return out


def _noise(stage: dict) -> float:
    r = stage["candidates_per_s"]
    if stage.get("repeats", 1) < 2 or r["median"] <= 0:
        return NOISE_FLOOR
    return max(NOISE_FLOOR, (r["max"] - r["min"]) / r["median"])


def compare(a: dict, b: dict, names: tuple[str, str] = ("A", "B")) -> tuple[list[str], list[str]]:
    """Per-stage ratio of median candidates/s, B over A.

    A stage is flagged as changed when ``|ratio - 1|`` exceeds the larger relative spread
    ``(max - min) / median`` of its rate in the two records (:data:`NOISE_FLOOR` for a single repeat).

    Returns
    -------
    lines : list of str
    changed : list of str
        Names of the stages whose change is beyond the noise.
    """
    lines = [f"{names[1]} against {names[0]} (ratio of median candidates/s; > 1: {names[1]} is faster)",
             f"  {names[0]}: {a['machine']['cpu_model']}, {a['machine']['cores']} cores, magnetscreen "
             f"{a['versions'].get('magnetscreen')}, n={a['config']['n']}",
             f"  {names[1]}: {b['machine']['cpu_model']}, {b['machine']['cores']} cores, magnetscreen "
             f"{b['versions'].get('magnetscreen')}, n={b['config']['n']}"]
    changed = []
    for stage in a["stages"]:
        if stage not in b["stages"]:
            lines.append(f"  {STAGE_LABELS.get(stage, stage):<22} only in {names[0]}")
            continue
        sa, sb = a["stages"][stage], b["stages"][stage]
        ratio = sb["candidates_per_s"]["median"] / sa["candidates_per_s"]["median"]
        noise = max(_noise(sa), _noise(sb))
        flag = abs(ratio - 1.0) > noise
        if flag:
            changed.append(stage)
        lines.append(f"  {STAGE_LABELS.get(stage, stage):<22} {ratio:6.2f}x   noise +/-{100 * noise:.0f} %   "
                     + ("CHANGED" if flag else "no change"))
    lines.append(f"{len(changed)} stage(s) changed beyond the noise" + (f": {', '.join(changed)}" if changed else ""))
    return lines, changed


def write_plots(record: dict, base: str | Path) -> dict[str, str | None]:
    """Write ``<base>.png`` and ``<base>.html``; returns their paths (None where the library is missing)."""
    base = Path(base)
    counts = record["scaling"]["counts"]
    workers = record["scaling"]["workers"]
    dask = record["scaling"]["dask"]
    wx = [r["workers"] for r in workers]
    wy = [r["candidates_per_s"]["median"] for r in workers]
    cx = [r["n"] for r in counts]
    cy = [r["peak_rss_bytes"] / 2**20 for r in counts]
    title = (f"magnetscreen bench, {record['machine']['cores']} cores, {record['machine']['cpu_model']}, "
             f"n={record['config']['n']:,}")
    out: dict[str, str | None] = {"png": None, "html": None}
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        pass
    else:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
        ax1.plot(wx, wy, "o-", label="joblib")
        if dask["status"] == "measured":
            ax1.plot([dask["workers"]], [dask["candidates_per_s"]["median"]], "s", label=f"Dask ({dask['scheduler']})")
        ax1.set(xlabel="workers", ylabel="candidates/s (end to end)", xticks=wx)
        ax1.legend()
        ax2.plot(cx, cy, "o-")
        ax2.set(xscale="log", xlabel="candidates", ylabel="peak RSS (MiB), workers=1", ylim=(0, max(cy) * 1.2))
        fig.suptitle(title, fontsize=9)
        fig.tight_layout()
        fig.savefig(base.with_suffix(".png"), dpi=120)
        plt.close(fig)
        out["png"] = str(base.with_suffix(".png"))
    try:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots
    except ImportError:
        pass
    else:
        fig = make_subplots(rows=1, cols=2, subplot_titles=("candidates/s against workers",
                                                            "peak memory against candidate count"))
        fig.add_trace(go.Scatter(x=wx, y=wy, mode="lines+markers", name="joblib"), row=1, col=1)
        if dask["status"] == "measured":
            fig.add_trace(go.Scatter(x=[dask["workers"]], y=[dask["candidates_per_s"]["median"]], mode="markers",
                                     name=f"Dask ({dask['scheduler']})", marker_symbol="square"), row=1, col=1)
        fig.add_trace(go.Scatter(x=cx, y=cy, mode="lines+markers", name="peak RSS, workers=1"), row=1, col=2)
        fig.update_xaxes(title_text="workers", dtick=1, row=1, col=1)
        fig.update_yaxes(title_text="candidates/s (end to end)", row=1, col=1)
        fig.update_xaxes(title_text="candidates", type="log", row=1, col=2)
        fig.update_yaxes(title_text="MiB", rangemode="tozero", row=1, col=2)
        fig.update_layout(title_text=title, title_font_size=12)
        fig.write_html(base.with_suffix(".html"), include_plotlyjs=True, full_html=True)
        out["html"] = str(base.with_suffix(".html"))
    return out

"""Retrospective campaign benchmark: do the acquisition rules find the best compositions with fewer experiments?

On a pool of compositions whose property is known (the Curie temperatures of the corpus's tier-A
intermetallics, or the Js_T or K1_MJm3 rows of the curated table), the labels are hidden, a seeded random
seed set is "measured", and rounds follow: a model learns the measured rows (extra trees on the 154
descriptors; mean and spread of the trees), a rule (:mod:`magnetscreen.models.acquisition`) scores the
unmeasured rows, :func:`~magnetscreen.models.acquisition.select_batch` picks a diverse batch, and its labels
are revealed. Random selection runs the same loop without a model and without the diversity rule (it is the
plain baseline whose expectations are exact).

Reported per rule, averaged over seeds with the spread (standard deviation):

- experiments to find the first of the top 1 % (``first_top``), half of the top 1 % (``half_top``) and the
  best composition (``best``), the seed set included (it is drawn from outside the top 1 %, so every target
  is found by the campaign itself); a run that does not get there within the budget is censored at the
  budget (``reached`` counts the runs that did);
- the **acceleration factor** of each milestone: experiments random selection needs in expectation (exact
  for sampling without replacement: after a seed set of s, the r-th of K targets among the N - s rows left
  comes ``r (N - s + 1) / (K + 1)`` draws later) divided by the rule's mean (a lower bound when runs were
  censored);
- the **enhancement factor** after n experiments: top-1 % compositions found by the rule over the
  ``(n - s) K / (N - s)`` random selection finds in expectation (Rohr et al., Chem. Sci. 11, 2696 (2020), who also
  define the acceleration factor this way).

The multi-objective rule (``chebyshev``) trades the learned property against the heavy-rare-earth intensity
and the value-weighted supply risk of each composition (both known without a measurement); its milestones
are still counted on the learned property, and it is also scored on the share of the three-objective
Pareto set of the pool it finds (``pareto_found``).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass

import numpy as np

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.descriptors.encoding import CompositionBatch, encode
from magnetscreen.models.acquisition import DEFAULT_MIN_DISTANCE, RULES, acquisition_values, select_batch

__all__ = ["Pool", "POOLS", "load_pool", "simulate", "milestones", "benchmark", "write_plots", "AS_OF"]

#: Pools a benchmark can run on.
POOLS = ("curie", "Js_T", "K1_MJm3")
#: Date of the supply risk of the multi-objective rule (fixed, so the benchmark is reproducible).
AS_OF = dt.date(2026, 6, 1)


@dataclass(frozen=True)
class Pool:
    """Compositions with a known property, their descriptors and the known objectives to minimize."""

    name: str
    formulas: np.ndarray
    batch: CompositionBatch
    X: np.ndarray
    y: np.ndarray
    known: np.ndarray  # (n, 2): HREE intensity (g/kg), value-weighted supply risk

    def __len__(self) -> int:
        return len(self.y)


def _known_objectives(batch: CompositionBatch) -> np.ndarray:
    from magnetscreen.datasets.hree import hree_set
    from magnetscreen.descriptors.hree import hree_intensity
    from magnetscreen.models.risk import composition_risk_arrays, element_price_arrays, element_risk_array

    risk = composition_risk_arrays(batch, element_risk_array(AS_OF), prices=element_price_arrays(AS_OF))
    return np.stack([hree_intensity(batch, hree_set("default").name), risk["risk_value_weighted"]], axis=1)


def load_pool(name: str = "curie") -> Pool:
    """A benchmark pool: ``curie`` (tier-A intermetallic Curie temperatures of the corpus, 2,156 compositions),
    ``Js_T`` or ``K1_MJm3`` (the curated rows the surrogates train on); one row per canonical composition."""
    from magnetscreen.descriptors.featurize import featurize

    if name == "curie":
        from magnetscreen.datasets.tables import load_curie_corpus

        corpus = load_curie_corpus()
        rows = corpus[(corpus["tier"] == "A") & (corpus["material_class"] == "intermetallic/alloy")]
        formulas = rows["formula"].to_numpy(dtype=str)
        y = rows["Tc_K"].to_numpy(dtype=np.float64)
    elif name in ("Js_T", "K1_MJm3"):
        from magnetscreen.models.training import training_set

        data = training_set(name)
        formulas = data.frame["formula"].to_numpy(dtype=str)
        y = np.asarray(data.y, dtype=np.float64)
    else:
        raise ConfigError(f"campaign benchmark pool: expected one of {', '.join(POOLS)}, got {name!r}")
    batch = encode(list(formulas))
    names = batch.names()
    _, first = np.unique(names, return_index=True)
    keep = np.sort(first)
    batch = batch.take(keep)
    descriptors, _ = featurize(batch)
    return Pool(name, names[keep], batch, np.ascontiguousarray(descriptors), y[keep], _known_objectives(batch))


def _fit_predict(X: np.ndarray, y: np.ndarray, X_new: np.ndarray, seed: int, n_trees: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.ensemble import ExtraTreesRegressor

    model = ExtraTreesRegressor(n_estimators=n_trees, random_state=seed, n_jobs=1)
    model.fit(X, y)
    per_tree = np.stack([tree.predict(X_new) for tree in model.estimators_])
    return per_tree.mean(axis=0), per_tree.std(axis=0)


def simulate(pool: Pool, rule: str, seed: int, *, n_seed: int = 20, batch_size: int = 10, budget: int = 300,
             kappa: float = 2.0, min_distance: float = DEFAULT_MIN_DISTANCE, n_trees: int = 64) -> np.ndarray:
    """One retrospective campaign: the pool rows in the order they were "measured" (seed set first).

    The seed set depends only on ``seed`` (the same for every rule), so rules are compared on paired runs.
    """
    if rule not in RULES:
        raise ConfigError(f"acquisition rule: expected one of {', '.join(RULES)}, got {rule!r}")
    n = len(pool)
    if not 1 <= n_seed < n or budget > n or budget < n_seed:
        raise ConfigError(f"campaign benchmark: need 1 <= n_seed ({n_seed}) < pool ({n}) and n_seed <= budget "
                          f"({budget}) <= pool")
    rng = np.random.default_rng([seed, 7])
    below = np.sort(_outside_top(pool))
    history = [int(i) for i in np.sort(rng.choice(below, n_seed, replace=False))]
    measured = np.zeros(n, dtype=bool)
    measured[history] = True
    round_ = 0
    while len(history) < budget:
        round_ += 1
        left = np.where(~measured)[0]
        key = seed * 100_003 + round_
        if rule == "random":
            mean = sigma = np.zeros(len(left))
        else:
            mean, sigma = _fit_predict(pool.X[measured], pool.y[measured], pool.X[left], key, n_trees)
        values = acquisition_values(rule, mean, sigma, seed=key, kappa=kappa, best=float(pool.y[measured].max()),
                                    minimize=pool.known[left])
        size = min(batch_size, budget - len(history))
        spacing = 0.0 if rule == "random" else min_distance  # random is the unfiltered baseline
        picked = select_batch(values, pool.batch.take(left), pool.formulas[left], size, spacing)
        if len(picked) == 0:  # everything left is too close to what this batch took: relax to distinct rows
            picked = select_batch(values, pool.batch.take(left), pool.formulas[left], size, 0.0)
        chosen = left[picked]
        history.extend(int(i) for i in chosen)
        measured[chosen] = True
    return np.array(history, dtype=np.int64)


def _top(pool: Pool, top_share: float = 0.01) -> np.ndarray:
    """Rows of the top ``top_share`` of the pool by the property (ties: pool order)."""
    k = max(1, math.ceil(top_share * len(pool)))
    return np.argsort(-pool.y, kind="stable")[:k]


def _outside_top(pool: Pool) -> np.ndarray:
    return np.setdiff1d(np.arange(len(pool)), _top(pool))


def _pareto_set(pool: Pool) -> np.ndarray:
    """Rows of the pool not dominated in (property up, HREE down, risk down); missing values count as worst."""
    obj = np.stack([-pool.y, pool.known[:, 0], np.where(np.isfinite(pool.known[:, 1]), pool.known[:, 1], 1.0)],
                   axis=1)
    keep = []
    for i in range(len(obj)):
        dominated = np.all(obj <= obj[i], axis=1) & np.any(obj < obj[i], axis=1)
        if not dominated.any():
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def milestones(pool: Pool, history: np.ndarray, top_share: float = 0.01) -> dict:
    """Experiments to the first of the top ``top_share``, half of them and the best (budget + 1 if never), and
    the count of top compositions found after each experiment."""
    top = set(_top(pool, top_share).tolist())
    k = len(top)
    hits = np.cumsum([int(i) in top for i in history])
    never = len(history) + 1

    def position(count: int) -> int:
        reached = np.where(hits >= count)[0]
        return int(reached[0]) + 1 if len(reached) else never

    best = int(np.argmax(pool.y))
    where_best = np.where(history == best)[0]
    return {"first_top": position(1), "half_top": position(math.ceil(k / 2)),
            "best": int(where_best[0]) + 1 if len(where_best) else never, "found": hits.tolist(), "k": k}


def benchmark(pool_name: str = "curie", rules: tuple[str, ...] = RULES, seeds: int = 5, *, n_seed: int = 20,
              batch_size: int = 10, budget: int = 300, kappa: float = 2.0,
              min_distance: float = DEFAULT_MIN_DISTANCE, n_trees: int = 64, log=None) -> dict:
    """Run every rule on ``seeds`` paired seeds and summarize (see the module docstring). JSON-ready."""
    if seeds < 1:
        raise ConfigError(f"seeds: expected an integer >= 1, got {seeds}")
    pool = load_pool(pool_name)
    n = len(pool)
    k = max(1, math.ceil(0.01 * n))
    pareto = set(_pareto_set(pool).tolist())
    # random selection after the seed set draws without replacement from the n - n_seed rows left, which
    # hold all k targets: the r-th comes, in expectation, r (n - n_seed + 1) / (k + 1) draws later
    m = n - n_seed
    expected_random = {"first_top": n_seed + (m + 1) / (k + 1),
                       "half_top": n_seed + math.ceil(k / 2) * (m + 1) / (k + 1), "best": n_seed + (m + 1) / 2}
    out: dict = {"pool": pool_name, "n_pool": n, "top_k": k, "top_threshold": float(np.sort(pool.y)[-k]),
                 "best_value": float(pool.y.max()), "n_seed": n_seed, "batch_size": batch_size, "budget": budget,
                 "kappa": kappa, "min_distance": min_distance, "n_trees": n_trees, "seeds": seeds,
                 "pareto_size": len(pareto), "expected_random": expected_random, "rules": {}}
    for rule in rules:
        start = time.perf_counter()
        runs = [simulate(pool, rule, s, n_seed=n_seed, batch_size=batch_size, budget=budget, kappa=kappa,
                         min_distance=min_distance, n_trees=n_trees) for s in range(seeds)]
        marks = [milestones(pool, h) for h in runs]
        found = np.array([m["found"] for m in marks], dtype=np.float64)
        steps = np.arange(1, budget + 1)
        entry: dict = {"seconds": round(time.perf_counter() - start, 1)}
        for name in ("first_top", "half_top", "best"):
            values = np.array([m[name] for m in marks], dtype=np.float64)
            reached = int((values <= budget).sum())
            mean = float(np.minimum(values, budget).mean())
            entry[name] = {"mean": mean, "std": float(np.minimum(values, budget).std()), "reached": reached,
                           "acceleration": expected_random[name] / mean,
                           "acceleration_is_lower_bound": reached < seeds}
        with np.errstate(divide="ignore", invalid="ignore"):
            enhancement = found.mean(axis=0) / (np.maximum(steps - n_seed, 0) * k / m)
        entry["found_mean"] = found.mean(axis=0).round(3).tolist()
        entry["found_std"] = found.std(axis=0).round(3).tolist()
        entry["enhancement_at"] = {str(b): float(enhancement[b - 1]) for b in (50, 100, 200, budget) if b <= budget}
        entry["pareto_found"] = float(np.mean([len(pareto & set(h.tolist())) / len(pareto) for h in runs]))
        out["rules"][rule] = entry
        if log is not None:
            first = entry["first_top"]
            log(f"{pool_name} {rule}: first of top 1 % after {first['mean']:.0f} +- {first['std']:.0f} experiments "
                f"(acceleration {first['acceleration']:.1f}x), "
                f"best after {entry['best']['mean']:.0f} ({entry['best']['reached']}/{seeds} reached), "
                f"{entry['seconds']} s")
    return out


def write_plots(record: dict, stem) -> dict[str, str]:
    """Discovery curves (top-1 % compositions found against experiments, mean and spread over seeds, with the
    random expectation) as ``STEM.png`` and a self-contained ``STEM.html`` that embeds the PNG and the table."""
    import base64
    import html
    from pathlib import Path

    try:
        import matplotlib
    except ImportError:
        raise ConfigError("the campaign benchmark's plots need matplotlib (pip install 'magnetscreen[bench]'); "
                          "or pass --no-plot") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stem = Path(stem)
    budget, k, n = record["budget"], record["top_k"], record["n_pool"]
    steps = np.arange(1, budget + 1)
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    for rule, entry in record["rules"].items():
        mean, std = np.array(entry["found_mean"]), np.array(entry["found_std"])
        ax.plot(steps, mean, label=rule)
        ax.fill_between(steps, mean - std, mean + std, alpha=0.15)
    m = n - record["n_seed"]
    ax.plot(steps, np.maximum(steps - record["n_seed"], 0) * k / m, "k:", label="random (expected)")
    ax.set_xlabel("experiments (seed set included)")
    ax.set_ylabel(f"top-1 % compositions found (of {k})")
    ax.set_title(f"Retrospective campaigns on {record['pool']} ({n} compositions, {record['seeds']} seeds, "
                 f"batches of {record['batch_size']})", fontsize=10)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    png = stem.with_suffix(".png")
    fig.savefig(png, metadata={"Software": None})
    plt.close(fig)
    rows = "".join(
        f"<tr><td>{html.escape(rule)}</td>"
        + "".join(f"<td>{e[m]['mean']:.0f} &plusmn; {e[m]['std']:.0f} ({e[m]['reached']}/{record['seeds']})</td>"
                  f"<td>{e[m]['acceleration']:.2f}{'+' if e[m]['acceleration_is_lower_bound'] else ''}</td>"
                  for m in ("first_top", "half_top", "best"))
        + f"<td>{e['enhancement_at'].get('100', float('nan')):.2f}</td><td>{100 * e['pareto_found']:.0f} %</td></tr>"
        for rule, e in record["rules"].items())
    image = base64.b64encode(png.read_bytes()).decode("ascii")
    page = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>magnetscreen campaign benchmark"
        "</title><link rel=\"icon\" href=\"data:,\"><style>body{font-family:system-ui,sans-serif;margin:24px}"
        "td,th{border-bottom:1px solid #ddd;padding:3px 10px;text-align:right}th{background:#f4f6f8}"
        "td:first-child{text-align:left}</style></head><body><h1>Retrospective campaign benchmark</h1>"
        f"<p>Pool {html.escape(record['pool'])}: {n} compositions, top 1 % = {k} (property &ge; "
        f"{record['top_threshold']:g}); seed set {record['n_seed']}, batches of {record['batch_size']}, budget "
        f"{record['budget']} experiments, {record['seeds']} seeds. Experiments to each milestone: mean &plusmn; "
        "standard deviation over seeds (runs that reached it); acceleration = random expectation / mean "
        "(+ = lower bound, some runs censored at the budget); enhancement = top-1 % found / random expectation "
        "after 100 experiments.</p>"
        "<table><tr><th>rule</th><th>first of top 1 %</th><th>AF</th><th>half of top 1 %</th><th>AF</th>"
        f"<th>best</th><th>AF</th><th>EF at 100</th><th>Pareto set found</th></tr>{rows}</table>"
        f"<p><img alt=\"discovery curves\" src=\"data:image/png;base64,{image}\" style=\"max-width:100%\"></p>"
        "</body></html>\n")
    page_path = stem.with_suffix(".html")
    page_path.write_text(page, encoding="utf-8")
    return {"png": png.name, "html": page_path.name}

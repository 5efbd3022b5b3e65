"""IU chest X-ray evaluation of the reports modality (writes JSON; not a test).

- Finding extraction (negation-aware, :mod:`clinfusion.modalities.reports.findings`) against the
  IU ``Problems`` labels: precision and recall per finding, counting ``uncertain`` as positive
  and, separately, ``present`` only.
- Normal vs abnormal (``Problems == normal``) separability: 5-fold cross-validated AUROC
  (mean +- sd) of a logistic-regression probe on mean-pooled MiniLM sentence embeddings, side
  by side with references in the same run: the 60-d findings vector and TF-IDF+SVD (fitted
  inside each training fold, so no leakage).

Usage: ``python bench/reports.py [--n N] [--out bench/results/reports.json]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def _tfidf_probe(texts: list[str], y: np.ndarray, seed: int = 0) -> tuple[float, float]:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline

    scores = []
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, y):
        pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                             TruncatedSVD(128, random_state=seed), LogisticRegression(max_iter=2000))
        pipe.fit([texts[i] for i in tr], y[tr])
        scores.append(roc_auc_score(y[te], pipe.predict_proba([texts[i] for i in te])[:, 1]))
    return float(np.mean(scores)), float(np.std(scores))


def main() -> None:
    from clinfusion.modalities.reports.embed import SentenceTransformerBackend
    from clinfusion.modalities.reports.features import findings_vector
    from clinfusion.modalities.reports.findings import report_findings
    from clinfusion.testing.reports import (
        extraction_scores,
        iu_sentences,
        load_iu_reports,
        mean_embeddings,
        probe_auroc,
    )

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=None, help="sample size (default: all reports)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "reports.json")
    args = ap.parse_args()
    df = load_iu_reports(args.n)
    t0 = time.perf_counter()
    extraction = {"uncertain_as_positive": extraction_scores(df), "present_only": extraction_scores(df, False)}
    t_extract = time.perf_counter() - t0
    y = (~df["normal"]).to_numpy(int)
    t0 = time.perf_counter()
    x = mean_embeddings(list(df["text"]), SentenceTransformerBackend(batch_size=128))
    t_embed = time.perf_counter() - t0
    minilm = probe_auroc(x, y)
    fx = np.stack([findings_vector(report_findings(iu_sentences(t))) for t in df["text"]])
    body = [" ".join(iu_sentences(t)) or t for t in df["text"]]
    result = {
        "dataset": "IU chest X-ray (Open-i) indiana_reports.csv",
        "n_reports": len(df), "n_abnormal": int(y.sum()),
        "extraction": extraction,
        "normal_vs_abnormal_auroc_5fold": {
            "minilm_mean_pooled": {"mean": minilm[0], "sd": minilm[1]},
            "findings_vector": dict(zip(("mean", "sd"), probe_auroc(fx, y), strict=True)),
            "tfidf_svd_in_fold": dict(zip(("mean", "sd"), _tfidf_probe(body, y), strict=True)),
        },
        "seconds": {"extraction": round(t_extract, 2), "minilm_embedding": round(t_embed, 2)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result["normal_vs_abnormal_auroc_5fold"], indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

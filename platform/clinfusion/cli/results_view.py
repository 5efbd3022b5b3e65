"""Printing a results dict of ``clinfusion train``: the table, its legend, and the repeats table."""

from __future__ import annotations

from typing import Any

from clinfusion.cli.console import console, print_frame


def print_results(result: dict[str, Any], title: str) -> None:
    """The results table (default model first, paired and calibration columns), then, with
    ``--repeats``, mean and spread over the repeated CV runs."""
    from clinfusion.evaluation.summary import TABLE_LEGEND, ordered_models, results_table

    print_frame(results_table(result), title=title)
    console.print(TABLE_LEGEND, highlight=False)
    rep = result.get("repeats")
    if rep:
        from clinfusion.training.repeats import repeats_table

        print_frame(repeats_table(rep, ordered_models(result)),
                    title=f"{rep['n']} repeats of the CV (seeds {rep['seeds']}; folds: {rep['fold_assignment']})")
        console.print("ΔC over repeats x folds; t[..]: 95% Nadeau-Bengio corrected t-interval (folds of different "
                      "repeats share training patients).", highlight=False)

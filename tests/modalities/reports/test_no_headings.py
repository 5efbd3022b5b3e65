"""Reports without a recognised heading are embedded whole (issue 19): they are all PREAMBLE."""

from __future__ import annotations

from clinfusion.modalities.reports.features import kept_sentences
from clinfusion.modalities.reports.record import build_record


def test_a_report_without_headings_keeps_all_its_sentences():
    rec = build_record(0, "ecg", "", "x.txt", "Sinus rhythm with first degree AV block. No acute ST changes.")
    assert {s for s, _ in kept_sentences(rec, ("PREAMBLE",))} == {"PREAMBLE"}
    assert len(kept_sentences(rec, ("PREAMBLE",))) == 2


def test_the_preamble_is_excluded_when_other_sections_exist():
    rec = build_record(0, "report", "", "x.txt", "Patient: [NAME]\nFINDINGS: No pleural effusion.\nIMPRESSION: Normal.")
    kept = kept_sentences(rec, ("PREAMBLE",))
    assert kept and "PREAMBLE" not in {s for s, _ in kept}


def test_featurize_embeds_a_patient_whose_only_report_has_no_heading(tmp_path):
    from clinfusion.featurize import featurize
    from clinfusion.featurize.cache import load_tokens
    from clinfusion.ingest.runner import ingest
    from clinfusion.modalities.registry import encoder_class
    from clinfusion.modalities.reports.embed import fit_tfidf_svd
    from clinfusion.testing import write_tiny_cohort

    cohort = write_tiny_cohort(tmp_path / "cohort", n_patients=2)
    texts = ["Sinus rhythm. Left axis deviation.", "FINDINGS: Mild cardiomegaly.\nIMPRESSION: Stable."]
    for pid, text in zip(cohort.patients, texts, strict=True):
        (cohort.root / "reports" / pid).mkdir(parents=True)
        (cohort.root / "reports" / pid / "note.txt").write_text(text)
    report = ingest(cohort.root, tmp_path / "ws", demo=True)
    model = fit_tfidf_svd(["sinus rhythm", "left axis deviation", "mild cardiomegaly", "stable"], tmp_path / "m.npz",
                          n_components=2)
    rep = featurize(report.workspace, encoder_class("reports", "tfidf_svd")({"model_path": str(model)}))
    assert not rep.failed and len(rep.encoded) == 2
    names = sorted(sorted(set(ts.names)) for ts in load_tokens(report.workspace, "reports", "tfidf_svd").values())
    assert names == [["FINDINGS", "IMPRESSION"], ["PREAMBLE"]]

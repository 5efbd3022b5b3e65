"""PHI scrubbing on hand-built text: every type, date shifts, propagation, protected terms."""

from __future__ import annotations

from clinfusion.modalities.reports.deid import medical_terms, scrub_reports, scrub_text

REPORT = """WRENFIELD UNIVERSITY MEDICAL CENTER
Patient: Rosamund Quillfeather    MRN: MRN-583920    DOB: 04/02/1931
Phone: (555) 318-2290   Fax 555-761-0043   SSN 123-45-6789   Accession: ACC123456789
Address: 4821 Juniper Hollow Road, Ashbury Vale
Lives near 77 Kestrel Row, Northwick.  E-mail rosamund.q@example.org, see https://portal.example.org/x
Referring physician: Dr. Octavius Pemberton
HISTORY: 93-year-old woman, aged 95 per chart; Mrs. Quillfeather reports cough. Age 45 sibling.
FINDINGS: No pleural effusion. Exam date: 2024-03-07.
Electronically signed by: Ysolde Farthingale, MD"""

PLANTED = ("Rosamund", "Quillfeather", "MRN-583920", "04/02/1931", "(555) 318-2290", "555-761-0043", "123-45-6789",
           "ACC123456789", "4821 Juniper", "Ashbury Vale", "77 Kestrel Row", "Northwick", "rosamund.q@example.org",
           "portal.example.org", "Octavius", "Pemberton", "93-year-old", "aged 95", "2024-03-07", "Ysolde",
           "Farthingale", "WRENFIELD")


def test_every_planted_item_is_replaced_by_its_type():
    r = scrub_text(REPORT, -10)
    for value in PLANTED:
        assert value.lower() not in r.text.lower(), value
    for tag in ("[NAME]", "[MRN]", "[PHONE]", "[ID]", "[ADDRESS]", "[EMAIL]", "[URL]", "[AGE>89]", "[INSTITUTION]"):
        assert tag in r.text, tag
    assert "DOB: 03/23/1931" in r.text and "Exam date: 2024-02-26." in r.text
    assert "Age 45 sibling" in r.text  # ages up to 89 are kept
    assert "No pleural effusion." in r.text
    assert r.counts["NAME"] >= 4 and r.counts["DATE"] == 2 and r.counts["AGE>89"] == 2
    assert {"Rosamund", "Quillfeather", "Octavius", "Pemberton"} <= r.names


def test_names_learnt_in_one_report_are_removed_from_the_others():
    texts = ["Patient: Thaddeus Bramblestead\nFINDINGS: normal.", "IMPRESSION: discussed with thaddeus today."]
    out = scrub_reports(texts, -5)
    assert "thaddeus" not in out[1].text.lower() and "[NAME]" in out[1].text
    assert scrub_text(texts[1], -5).text == texts[1]  # alone, the bare name is not evidence


def test_medical_terms_survive_unchanged():
    terms = medical_terms()
    assert len(terms) >= 200
    assert {"Hodgkin lymphoma", "Wilms tumor", "Crohn disease", "Paget disease"} <= set(terms)
    body = "\n".join(f"FINDINGS: {t} is noted. {t.capitalize()} again." for t in terms)
    text = "Patient: Hodgkin Paget\nSigned by: Dr. Wilms Crohn\n" + body
    r = scrub_text(text, -30)
    for t in terms:
        assert f"FINDINGS: {t} is noted. {t.capitalize()} again." in r.text, t
    assert not ({"hodgkin", "paget", "wilms", "crohn"} & {w.lower() for w in r.names})


def test_no_phi_text_is_unchanged():
    text = "FINDINGS: The heart is enlarged. 3.5 cm nodule in the right upper lobe, 2 clips close to the hilum."
    r = scrub_text(text, -100)
    assert r.text == text and not r.counts

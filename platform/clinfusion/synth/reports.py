"""Templated radiology and pathology reports with INDICATION/FINDINGS/IMPRESSION sections.

Findings follow the latents that reports express (``tumour_burden``: mass size, nodes,
effusion, invasion; ``immune``: tumour-infiltrating lymphocytes; ``cardiac``: heart size),
stated both positively and with negations ("No evidence of ..."). The histological type is
deliberately not named, so the diagnosis label cannot be read off the text. Headers and
sign-offs carry planted PHI: name, MRN, dates of birth and service, phone, physicians.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clinfusion.synth.phi import PatientPHI, PhiLedger


def _mass_mm(latents: dict[str, float], phenotype: dict[str, float], rng: np.random.Generator) -> int:
    if "lesion_radius_mm" in phenotype:  # the report measures the lesion the CT shows
        return int(round(2 * phenotype["lesion_radius_mm"] + rng.normal(0, 1.5)))
    return int(np.clip(round(18 + 8 * latents["tumour_burden"] + rng.normal(0, 3)), 6, 52))


def _header(title: str, pid: str, phi: PatientPHI, ledger: PhiLedger, kind: str) -> list[str]:
    a = lambda f, v: ledger.add(pid, "reports", f"{kind}: {f}", v)  # noqa: E731
    return [
        a("institution", phi.institution.upper()),
        title,
        f"Patient: {a('name', phi.full_name)}    MRN: {a('MRN', phi.mrn)}    DOB: {a('DOB', phi.birth_date.strftime('%m/%d/%Y'))}",
        f"Date of service: {a('date of service', phi.study_date.strftime('%m/%d/%Y'))}    "
        f"Referring: {a('referring physician', phi.referring)}    Phone: {a('phone', phi.phone)}",
        "",
    ]


def radiology_report(pid: str, latents: dict[str, float], age: int, sex: str, mass_mm: int, phi: PatientPHI,
                     ledger: PhiLedger, rng: np.random.Generator) -> str:
    """CT chest report text."""
    burden, cardiac = latents["tumour_burden"], latents["cardiac"]
    lobe = ("upper", "lower")[int(rng.integers(2))]
    margin = "spiculated" if burden + rng.normal(0, 0.5) > 0.5 else "lobulated"
    nodes = burden + rng.normal(0, 0.5) > 0.7
    effusion = burden + rng.normal(0, 0.5) > 1.3
    cardiomegaly = cardiac + rng.normal(0, 0.4) > 0.9
    woman = "woman" if sex == "F" else "man"
    findings = [
        f"Lungs: There is a {margin} {mass_mm} mm mass in the right {lobe} lobe.",
        "Mediastinum: Enlarged mediastinal lymph nodes, the largest measuring "
        f"{int(12 + 6 * max(burden, 0))} mm." if nodes else "Mediastinum: No mediastinal or hilar lymphadenopathy.",
        "Pleura: Small right pleural effusion." if effusion else "Pleura: No pleural effusion. No pneumothorax.",
        "Heart: Mild cardiomegaly. No pericardial effusion." if cardiomegaly
        else "Heart: Heart size is normal. No pericardial effusion.",
        "Bones: No suspicious osseous lesions.",
    ]
    impression = [
        f"1. {mass_mm} mm right {lobe} lobe mass, suspicious for primary lung malignancy.",
        "2. Mediastinal lymphadenopathy, concerning for nodal metastasis." if nodes
        else "2. No evidence of nodal metastasis.",
    ]
    if cardiomegaly:
        impression.append("3. Mild cardiomegaly.")
    lines = _header("CT CHEST WITH CONTRAST", pid, phi, ledger, "radiology_report")
    lines += ["INDICATION:", f"{age}-year-old {woman} with a lung mass on chest radiograph. Staging.", "",
              "TECHNIQUE:", "Axial CT of the chest after intravenous contrast, 5 mm reconstructions.", "",
              "FINDINGS:", *findings, "", "IMPRESSION:", *impression, "",
              f"Electronically signed by {phi.referring} on {phi.study_date.strftime('%m/%d/%Y')}."]
    return "\n".join(lines) + "\n"


def pathology_report(pid: str, latents: dict[str, float], mass_mm: int, phi: PatientPHI, ledger: PhiLedger,
                     rng: np.random.Generator) -> str:
    """Surgical pathology report text (no histological type named)."""
    burden, immune = latents["tumour_burden"], latents["immune"]
    til = immune + rng.normal(0, 0.4)
    til_text = "brisk" if til > 0.6 else ("non-brisk" if til > -0.6 else "absent")
    lvi = burden + rng.normal(0, 0.6) > 0.8
    necrosis = burden + rng.normal(0, 0.6) > 0.5
    pleura = burden + rng.normal(0, 0.6) > 1.2
    findings = [
        f"Tumour size: {mass_mm / 10:.1f} cm in greatest dimension.",
        f"Tumour-infiltrating lymphocytes: {til_text}.",
        "Lymphovascular invasion: present." if lvi else "Lymphovascular invasion: not identified.",
        "Tumour necrosis: present, focal." if necrosis else "No evidence of tumour necrosis.",
        "Visceral pleural invasion: present." if pleura else "No visceral pleural invasion.",
        "Margins: negative for carcinoma; closest margin 4 mm.",
    ]
    impression = [
        f"Invasive carcinoma of the lung, {mass_mm / 10:.1f} cm; tumour-infiltrating lymphocytes {til_text}.",
        "Lymphovascular invasion present." if lvi else "No lymphovascular invasion.",
    ]
    lines = _header("SURGICAL PATHOLOGY REPORT", pid, phi, ledger, "pathology_report")
    pathologist = ledger.add(pid, "reports", "pathology_report: pathologist", phi.pathologist)
    lines += ["INDICATION:", "Right lung mass, lobectomy specimen. Rule out malignancy.", "",
              "FINDINGS:", *findings, "", "IMPRESSION:", *impression, "",
              f"Pathologist: {pathologist}. Report finalized {phi.study_date.strftime('%m/%d/%Y')}."]
    return "\n".join(lines) + "\n"


def write_reports(patient_dir: Path, pid: str, latents: dict[str, float], age: int, sex: str,
                  phenotype: dict[str, float], phi: PatientPHI, rng: np.random.Generator,
                  ledger: PhiLedger) -> dict[str, float]:
    """Write ``radiology_report.txt`` and ``pathology_report.txt`` under ``reports/<pid>/``.

    Returns:
        The report phenotype (stated mass size in mm).
    """
    patient_dir.mkdir(parents=True, exist_ok=True)
    mass_mm = _mass_mm(latents, phenotype, rng)
    (patient_dir / "radiology_report.txt").write_text(
        radiology_report(pid, latents, age, sex, mass_mm, phi, ledger, rng), encoding="utf-8")
    (patient_dir / "pathology_report.txt").write_text(
        pathology_report(pid, latents, mass_mm, phi, ledger, rng), encoding="utf-8")
    return {"report_mass_mm": float(mass_mm)}

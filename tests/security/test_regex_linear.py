"""Every report / ECG-comment pattern runs in linear time on hostile input (issue 23).

The credential pattern was quadratic on a long run of letters (25k letters: 62 s). Each
compiled pattern of the report modules and the ECG comment scrubber (100 kB inputs), and the
whole scrub (200 kB), runs here on adversarial inputs in a subprocess. A quadratic pattern needs
about 20 min per input at 100 kB (16x the 62 s of 25k), a linear one well under a second, so the subprocess timeout is a bound
on the complexity class (four orders of magnitude apart), not a wall-clock assert.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

_SCRIPT = textwrap.dedent('''
    import importlib, re, sys
    from clinfusion.modalities.reports import deid, findings
    N = 100_000
    INPUTS = {"letters": "A" * N, "lower": "a" * N, "spaces": " " * N, "tabs": "\\t" * N, "newlines": "\\n" * N,
              "alternating": "a " * (N // 2), "dotted": "a." * (N // 2), "dashed": "a-" * (N // 2),
              "words": "Ab " * (N // 3), "digits": "1" * N, "mrn": "MRN-" * (N // 4), "titles": "Dr. " * (N // 4),
              "commas": "Ab, " * (N // 4), "label": "age:" + " " * N + "x", "unicode": "\\u00d1" * N,
              "abbrev": "e.g. " * (N // 5), "negations": "no effusion " * (N // 12),
              "credentials": "Jos\\u00e9 Mu\\u00f1oz, MD " * (N // 16)}
    MODULES = [f"clinfusion.modalities.reports.{m}" for m in ("deid", "names", "dates", "sections", "negation",
               "findings", "sentences", "record", "read", "charclass")] + ["clinfusion.modalities.ecg.deid"] + [
               f"clinfusion.privacy.phi.{m}" for m in ("rules", "names", "dates", "presidio", "places")]
    patterns = [(f"{m}.{k}", v) for m in MODULES for k, v in vars(importlib.import_module(m)).items()
                if isinstance(v, re.Pattern)]
    patterns += [("deid._terms_pattern", deid._terms_pattern())]
    patterns += [(f"findings.{k}", v) for k, v in findings._patterns().items()]
    assert len(patterns) > 30, len(patterns)
    for name, pattern in patterns:
        for kind, text in INPUTS.items():
            pattern.sub("", text)
            pattern.match(text)
    print("patterns", len(patterns), flush=True)
''')

_SCRUB = textwrap.dedent('''
    from clinfusion.modalities.ecg.deid import scrub_comments
    from clinfusion.modalities.reports.deid import scrub_reports
    from clinfusion.modalities.reports.findings import report_findings
    from clinfusion.modalities.reports.record import build_record
    N = 200_000
    texts = ["A" * N, " " * N, "a." * (N // 2), "MRN-" * (N // 4), "Dr. " * (N // 4), "Ab, " * (N // 4),
             "no effusion " * (N // 12), "e.g. " * (N // 5), "age:" + " " * N + "x"]
    for scrubbed in scrub_reports(texts, 7):
        rec = build_record(0, "report", "", "x", scrubbed.text)
        report_findings([s for sec in rec["sections"] for s in sec["sentences"]])
    scrub_comments(texts)
    print("scrubbed", len(texts), flush=True)
''')


def _run(script: str) -> str:
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("a pattern did not finish on 200 kB of hostile input within 300 s: not linear")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_every_compiled_pattern_is_linear_on_hostile_input():
    assert "patterns" in _run(_SCRIPT)


def test_whole_scrub_of_hostile_reports_finishes():
    assert "scrubbed 9" in _run(_SCRUB)


def test_long_lines_are_quarantined_with_reason():
    from clinfusion.modalities.reports.read import ReportsOptions, size_problem

    opts = ReportsOptions(max_line_chars=1000)
    assert size_problem("short\n" * 10, opts) == ""
    assert size_problem("ok\n" + "x" * 1001, opts) == "line 2 longer than 1000 characters (max_line_chars)"
    assert "max_report_chars" in size_problem("y\n" * 600, ReportsOptions(max_report_chars=1000))


def test_ecg_comment_pattern_still_parses_values():
    from clinfusion.modalities.ecg.deid import scrub_comments

    out = scrub_comments(["  <age>:  93  ", "Sex = female ", "Dx: 426783006, 164889003", "Name: Jane Roe", "69 M 1085"])
    assert out == {"age": 90.0, "sex": "F", "dx": ["426783006", "164889003"], "comments_dropped": 2}

"""Every compiled pattern of the PHI package runs in linear time on hostile input (as
tests/security/test_regex_linear.py does for the report modules): 100 kB inputs in a subprocess
whose timeout bounds the complexity class (a quadratic pattern needs minutes, a linear one
well under a second), not a wall-clock assert."""

from __future__ import annotations

import subprocess
import sys
import textwrap

_SCRIPT = textwrap.dedent('''
    import importlib, re
    N = 100_000
    INPUTS = ["A" * N, "a" * N, " " * N, "a." * (N // 2), "1/" * (N // 2), "Ab, " * (N // 4), "Dr. " * (N // 4),
              "1" * N, "29-Sep-" * (N // 7), "\\u00d1" * N, "a-" * (N // 2), "\\n" * N,
              "Ab Inc " * (N // 7), "12 " * (N // 3), "Abgasse 1, " * (N // 11)]
    MODULES = [f"clinfusion.privacy.phi.{m}" for m in ("base", "charclass", "dates", "gazetteer", "names", "rules", "terms",
               "merge", "replace", "pipeline", "presidio", "philter")]
    patterns = [(f"{m}.{k}", v) for m in MODULES for k, v in vars(importlib.import_module(m)).items()
                if isinstance(v, re.Pattern)]
    from clinfusion.privacy.phi.terms import terms_pattern
    patterns.append(("terms_pattern", terms_pattern()))
    assert len(patterns) > 15, len(patterns)
    for name, pattern in patterns:
        for text in INPUTS:
            pattern.sub("", text)
    from clinfusion.privacy.phi import PhiPipeline
    for text in INPUTS:
        PhiPipeline(["rules", "presidio"]).scrub(text[:20_000], 3)
    print("ok", len(patterns), flush=True)
''')


def test_phi_patterns_and_default_detectors_are_linear_on_hostile_input():
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("ok")

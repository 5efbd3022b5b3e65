"""De-identification of free text: rules vs each library vs merged pipelines, side by side (writes JSON).

Two evaluation sets, neither produced by this project's generators:

1. **Independent PHI set**: the 209 sentence templates of Microsoft's ``presidio-evaluator``
   0.3.2 data generator (``bench/data/presidio_evaluator/templates.txt``, MIT), filled with its
   Fake Name Generator identities (600 of its 3,000 rows: given names and surnames of 30 name
   sets, street addresses, cities, phone numbers, e-mails, birthdays, national ids, companies)
   and its organisation list; fields the identity table lacks (credit card, IBAN, IP address,
   URL, SSN, date-times, US driver licence) come from Faker (seeded). Each placeholder's value
   is a gold span of its PHI type; placeholders that are not PHI under HIPAA Safe Harbor
   (country, nationality, job, year, weekday, ages <= 89, state) are filled but not gold, so
   flagging them costs precision. Note: the templates hold no MRN or accession numbers (those
   are covered by the unit tests only), and the ``presidio`` detector's name deny-list comes
   from Faker's name lists, a different source from the Fake Name Generator identities (their
   overlap is reported).
2. **IU chest X-ray reports** (../shared/data/reports/iu_xray, real, already de-identified with
   ``XXXX``): every token flagged outside an ``XXXX`` mask is a false positive on clinical
   vocabulary; the negation-aware findings extraction of bench/reports.py is run on the
   unscrubbed and on each scrubbed text (its precision/recall must stay within 0.01).

Split: the rules were designed looking only at the ``dev`` split (templates, identities and
organisations of even index in their files); the reported numbers are on the held-out ``test``
split (odd index: templates, people and organisations never seen while designing), see
:data:`SPLITS`.

Metrics: token-level (``\\w+`` tokens). Recall per gold type = gold tokens covered by any
predicted span (of any type, as in the i2b2 evaluations); ``entity_recall`` = entities whose
every token is covered (a partly covered name still leaks). Precision = predicted tokens that
are gold, over predicted tokens. Every detector runs once per text; the combinations merge
those spans exactly as :class:`clinfusion.privacy.phi.PhiPipeline` does.

Usage: ``python bench/deid.py [--n-sentences 1500] [--split test] [--n-iu N] [--out bench/results/deid.json]``
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import Counter
from pathlib import Path

DATA = Path(__file__).parent / "data" / "presidio_evaluator"
SYSTEMS: dict[str, tuple[str, ...]] = {
    "rules": ("rules",), "presidio": ("presidio",), "philter": ("philter",), "rules+presidio": ("rules", "presidio"),
    "rules+philter": ("rules", "philter"), "rules+presidio+philter": ("rules", "presidio", "philter"),
}
GROUPS = {"NAME": "names", "DATE": "dates", "ID": "identifiers", "MRN": "identifiers", "PHONE": "identifiers",
          "EMAIL": "identifiers", "URL": "identifiers", "AGE": "ages", "ADDRESS": "addresses",
          "INSTITUTION": "institutions"}
TARGETS = {"names": 0.99, "dates": 0.99, "identifiers": 0.99, "addresses": 0.95, "institutions": 0.95, "precision": 0.90}
_TOKEN = re.compile(r"\w+")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_DATE_FORMATS = ("%B %d, %Y", "%m/%d/%Y", "%Y-%m-%d", "%d %b %Y", "%b %d %Y", "%d.%m.%Y")


SPLITS = ("dev", "test", "all")
"""``dev``: templates, identities and organisations of even index (0, 2, ...) in their files, the
only ones looked at while the rules were designed; ``test``: those of odd index (held out);
``all``: both. Sentences of one split use only that split's templates, people and organisations."""


def _in_split(items: list, split: str) -> list:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return items if split == "all" else items[(split == "test")::2]


def _identities(split: str = "all") -> tuple[list[dict[str, str]], list[str]]:
    import csv

    with (DATA / "FakeNameGenerator.com_600.csv").open(encoding="utf-8") as f:
        people = list(csv.DictReader(f))
    orgs = [x.strip() for x in (DATA / "companies_and_organizations_400.txt").read_text("utf-8").splitlines() if x.strip()]
    return _in_split(people, split), _in_split(orgs, split)


def _value(key: str, p: dict[str, str], orgs: list[str], fake, rng: random.Random) -> tuple[str, str | None]:
    """(text, gold type or None) for one placeholder."""
    given, sur = p["GivenName"], p["Surname"]
    simple = {
        "first_name": (given, "NAME"), "first_name_male": (given, "NAME"), "first_name_female": (given, "NAME"),
        "first_name_nonbinary": (given, "NAME"), "last_name": (sur, "NAME"), "last_name_male": (sur, "NAME"),
        "last_name_female": (sur, "NAME"), "name": (f"{given} {sur}", "NAME"), "name_male": (f"{given} {sur}", "NAME"),
        "name_female": (f"{given} {sur}", "NAME"), "person": (f"{given} {sur}", "NAME"),
        "prefix": (p["Title"], None), "prefix_male": (p["Title"], None), "prefix_female": (p["Title"], None),
        "address": (f"{p['StreetAddress']}, {p['City']}, {p['State']} {p['ZipCode']}", "ADDRESS"),
        "street_name": (re.sub(r"^\d+\s*|\s*\d+$", "", p["StreetAddress"]) or p["StreetAddress"], "ADDRESS"),
        "building_number": (str(rng.randint(1, 9999)), "ADDRESS"), "secondary_address": (fake.secondary_address(), "ADDRESS"),
        "city": (p["City"], "ADDRESS"), "postcode": (p["ZipCode"], "ADDRESS"), "zipcode": (p["ZipCode"], "ADDRESS"),
        "state_abbr": (p["State"], None), "country": (p["CountryFull"], None), "nationality": (fake.country(), None),
        "nation_woman": (fake.country(), None), "nation_plural": (fake.country(), None), "job": (p["Occupation"], None),
        "phone_number": (p["TelephoneNumber"], "PHONE"), "email": (p["EmailAddress"], "EMAIL"),
        "url": (f"https://www.{p['Domain']}/{fake.uri_path()}", "URL"), "organization": (rng.choice(orgs), "INSTITUTION"),
        "credit_card_number": (fake.credit_card_number(), "ID"), "iban": (fake.iban(), "ID"),
        "ssn": (fake.ssn(), "ID"), "ip_address": (fake.ipv4(), "ID"), "us_driver_license": (fake.bothify("?#######").upper(), "ID"),
        "year": (str(rng.randint(1950, 2024)), None), "day_of_week": (fake.day_of_week(), None),
        "date_of_birth": (p["Birthday"], "DATE"),
    }
    if key in simple:
        return simple[key]
    if key == "date_time":
        return fake.date_between("-30y", "today").strftime(rng.choice(_DATE_FORMATS)), "DATE"
    if key == "age":
        age = rng.choice([int(p["Age"]), rng.randint(90, 104)]) if rng.random() < 0.2 else int(p["Age"])
        return str(age), ("AGE" if age > 89 else None)
    raise KeyError(f"templates.txt: placeholder {{{{{key}}}}} has no value generator")


def make_sentences(n: int, seed: int = 0, split: str = "all") -> list[tuple[str, list[tuple[int, int, str]]]]:
    """``n`` filled templates of ``split`` (:data:`SPLITS`) with gold spans ``(start, end, type)``."""
    from faker import Faker

    fake = Faker("en_US")
    Faker.seed(seed)
    rng = random.Random(seed)
    # as presidio-evaluator does, a literal "\\n" in a template is a line break
    templates = _in_split([t.strip().replace("\\n", "\n") for t in (DATA / "templates.txt").read_text("utf-8").splitlines()
                           if t.strip()], split)
    people, orgs = _identities(split)
    out = []
    for _ in range(n):
        template, person = rng.choice(templates), rng.choice(people)
        parts, gold, pos = [], [], 0
        length = 0
        for m in _PLACEHOLDER.finditer(template):
            parts.append(template[pos:m.start()])
            length += m.start() - pos
            value, kind = _value(m.group(1), person, orgs, fake, rng)
            if kind:
                gold.append((length, length + len(value), kind))
            parts.append(value)
            length += len(value)
            pos = m.end()
        parts.append(template[pos:])
        out.append(("".join(parts), gold))
    return out


def _covered(tokens: list[tuple[int, int]], spans) -> list[bool]:
    return [any(s.start < e and b < s.end for s in spans) for b, e in tokens]


def _raw_spans(detectors: dict, text: str) -> dict[str, list]:
    from clinfusion.privacy.phi.rules import detect_rules

    out, seconds = {}, {}
    for name, det in detectors.items():
        t0 = time.perf_counter()
        out[name] = detect_rules(text)[0] if name == "rules" else det.detect(text)
        seconds[name] = time.perf_counter() - t0
    return {"spans": out, "seconds": seconds}


def _combos(raw: dict[str, list], text: str) -> dict[str, list]:
    from clinfusion.privacy.phi.pipeline import combine_spans

    return {sys: combine_spans([s for d in dets for s in raw[d]], text) for sys, dets in SYSTEMS.items()}


def evaluate_independent(sentences, detectors) -> dict:
    tot = {sys: Counter() for sys in SYSTEMS}
    seconds: Counter[str] = Counter()
    for text, gold in sentences:
        raw = _raw_spans(detectors, text)
        seconds.update(raw["seconds"])
        tokens = [m.span() for m in _TOKEN.finditer(text)]
        gold_type = [next((k for s, e, k in gold if s < te and ts < e), None) for ts, te in tokens]
        for sys, spans in _combos(raw["spans"], text).items():
            cov = _covered(tokens, spans)
            c = tot[sys]
            for g, hit in zip(gold_type, cov, strict=True):
                c["pred"] += hit
                c["tp"] += hit and g is not None
                if g:
                    c[f"gold:{GROUPS[g]}"] += 1
                    c[f"hit:{GROUPS[g]}"] += hit
            for s, e, k in gold:
                idx = [i for i, (ts, te) in enumerate(tokens) if s < te and ts < e]
                c[f"ent:{GROUPS[k]}"] += 1
                c[f"enthit:{GROUPS[k]}"] += all(cov[i] for i in idx)
    out = {}
    for sys, c in tot.items():
        groups = sorted({k.split(":")[1] for k in c if k.startswith("gold:")})
        out[sys] = {
            "precision": round(c["tp"] / c["pred"], 4) if c["pred"] else None,
            "token_recall": {g: round(c[f"hit:{g}"] / c[f"gold:{g}"], 4) for g in groups},
            "entity_recall": {g: round(c[f"enthit:{g}"] / c[f"ent:{g}"], 4) for g in groups},
            "n_gold_entities": {g: c[f"ent:{g}"] for g in groups},
        }
    ms = {d: round(1000 * seconds[d] / max(len(sentences), 1), 3) for d in detectors}
    return {"systems": out, "ms_per_text": ms}


def evaluate_iu(df, detectors) -> dict:
    from clinfusion.privacy.phi.replace import replace_spans
    from clinfusion.testing.reports import extraction_scores

    base = extraction_scores(df)
    texts = list(df["text"])
    scrubbed = {sys: [] for sys in SYSTEMS}
    stats = {sys: Counter() for sys in SYSTEMS}
    flagged_words = {sys: Counter() for sys in SYSTEMS}
    for text in texts:
        raw = _raw_spans(detectors, text)["spans"]
        tokens = [m.span() for m in _TOKEN.finditer(text)]
        masks = [text[b:e].upper().startswith("XXXX") for b, e in tokens]
        for sys, spans in _combos(raw, text).items():
            cov = _covered(tokens, spans)
            c = stats[sys]
            c["tokens"] += sum(not m for m in masks)
            c["fp_tokens"] += sum(h and not m for h, m in zip(cov, masks, strict=True))
            c["mask_tokens"] += sum(masks)
            c["mask_covered"] += sum(h and m for h, m in zip(cov, masks, strict=True))
            new, _ = replace_spans(text, spans, -30)
            c["changed"] += new != text
            flagged_words[sys].update(text[b:e].lower() for (b, e), h, m in zip(tokens, cov, masks, strict=True)
                                      if h and not m)
            scrubbed[sys].append(new)
    out = {}
    for sys in SYSTEMS:
        sdf = df.copy()
        sdf["text"] = scrubbed[sys]
        scores = extraction_scores(sdf)
        deltas = [abs(scores[f][m] - base[f][m]) for f in base for m in ("precision", "recall")
                  if base[f][m] == base[f][m] and scores[f][m] == scores[f][m]]
        c = stats[sys]
        out[sys] = {"reports_changed": round(c["changed"] / len(texts), 4),
                    "fp_tokens_per_1000": round(1000 * c["fp_tokens"] / max(c["tokens"], 1), 3),
                    "xxxx_masks_covered": round(c["mask_covered"] / max(c["mask_tokens"], 1), 4),
                    "findings_max_abs_delta": round(max(deltas), 4) if deltas else None,
                    "top_false_positive_words": flagged_words[sys].most_common(12)}
    return {"n_reports": len(texts), "systems": out,
            "reference_findings_unscrubbed": {f: {m: round(v, 4) for m, v in s.items()} for f, s in base.items()}}


def _name_overlap() -> float:
    from clinfusion.privacy.phi.presidio import faker_name_words

    deny = set(faker_name_words())
    people, _ = _identities()
    words = {w for p in people for w in (p["GivenName"], p["Surname"])}
    return round(len(words & deny) / len(words), 4)


def main() -> None:
    from clinfusion.privacy.phi import make_detector
    from clinfusion.testing.reports import load_iu_reports

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n-sentences", type=int, default=1500)
    ap.add_argument("--n-iu", type=int, default=None, help="IU reports (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", choices=SPLITS, default="test", help="independent-set split (default: held-out test)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "deid.json")
    args = ap.parse_args()
    detectors = {n: make_detector(n) for n in ("rules", "presidio", "philter")}
    for det in detectors.values():
        det.detect("warm up Dr. John Smith 2020-01-01")  # library loading is not timed per text
    sentences = make_sentences(args.n_sentences, args.seed, args.split)
    independent = evaluate_independent(sentences, detectors)
    iu = evaluate_iu(load_iu_reports(args.n_iu, args.seed), detectors)
    from clinfusion.privacy.phi.philter import nltk_tagger_available

    result = {
        "independent_set": {"source": "presidio-evaluator 0.3.2 templates + Fake Name Generator identities (+ Faker)",
                            "n_sentences": len(sentences), "seed": args.seed, "split": args.split,
                            "split_rule": "dev = even-index templates/people/organisations (used while designing "
                                          "the rules), test = odd-index ones (held out)",
                            "name_words_in_presidio_deny_list": _name_overlap(), **independent},
        "iu_xray": iu, "targets": TARGETS,
        "notes": {"rules": "patterns + word-list names (philter-lite firstnames/lastnames/nonames sets, Faker names) "
                           "+ street/postcode, organisation-suffix and identifier patterns",
                  "presidio": "pattern recognizers + Faker name deny-list; no spaCy NER model installable here",
                  "philter_nltk_tagger": "installed" if nltk_tagger_available() else "absent: shape-based POS fallback"},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for sys in SYSTEMS:
        r, u = independent["systems"][sys], iu["systems"][sys]
        print(f"{sys:24s} P={r['precision']} entR={r['entity_recall']} | IU fp/1000={u['fp_tokens_per_1000']} "
              f"changed={u['reports_changed']} dFind={u['findings_max_abs_delta']}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

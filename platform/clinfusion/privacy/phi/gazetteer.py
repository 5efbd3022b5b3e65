"""Word lists behind the name rules: person-name words and common (non-name) words.

Sources, both already pinned dependencies (nothing is fetched):

* ``philter-lite`` 0.6.0 (BSD-3-Clause, UCSF): ``filters/set.toml`` holds ``firstnames``
  (~97k), ``lastnames`` (~161k) and ``nonames`` (~195k lower-case English and medical words
  that philter never treats as names: its whitelist).
* Faker (MIT): the first and last names of its person providers
  (:func:`clinfusion.privacy.phi.presidio.faker_name_words`).

A capitalised word is a *name word* when it is in either name list, a *common word* when it is in
philter's whitelist; a word in both (``Rose``, ``Hope``, ``Will``, ``Grant``) is ambiguous and
only taken as a name with more evidence (:func:`clinfusion.privacy.phi.names.find_gazetteer_names`).
Loading parses the 5.5 MB TOML line by line once per process (~0.6 s).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

PHILTER_SETS = ("philter_lite", "filters/set.toml")
"""(package, resource) of philter-lite's word sets."""
_QUOTED = re.compile(r'"([^"\\]*)"')


@lru_cache(maxsize=1)
def _philter_sets() -> dict[str, frozenset[str]]:
    package, resource = PHILTER_SETS
    try:
        text = resources.files(package).joinpath(resource).read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:  # pragma: no cover - a broken install
        raise RuntimeError(f"{package}/{resource}: the name gazetteer needs philter-lite==0.6.0 installed ({exc})") from exc
    sets: dict[str, frozenset[str]] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition("=")
        if sep and rest.lstrip().startswith("["):
            sets[key.strip()] = frozenset(w.lower() for w in _QUOTED.findall(rest) if w)
    missing = {"firstnames", "lastnames", "nonames"} - set(sets)
    if missing:
        raise RuntimeError(f"{package}/{resource}: expected word sets firstnames, lastnames, nonames; missing {sorted(missing)}")
    return sets


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Lower-case given names (philter-lite ``firstnames``)."""
    return _philter_sets()["firstnames"]


@lru_cache(maxsize=1)
def name_words() -> frozenset[str]:
    """Lower-case first and last names of philter-lite and Faker."""
    from clinfusion.privacy.phi.presidio import faker_name_words

    sets = _philter_sets()
    return sets["firstnames"] | sets["lastnames"] | frozenset(w.lower() for w in faker_name_words())


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Lower-case words that are not names by themselves (philter-lite's ``nonames`` whitelist)."""
    return _philter_sets()["nonames"]


_TITLES_AND_DAYS = ("sir", "madam", "lord", "lady", "dame", "king", "queen", "prince", "princess", "saint", "st",
                    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")


@lru_cache(maxsize=1)
def place_words() -> frozenset[str]:
    """Lower-case words of country names and US state names (Faker's ``en``/``en_US`` address
    providers; HIPAA Safe Harbor keeps both) and month names: a bare one is not a name
    (``France``, ``June``), but many are given names or surnames too (``Georgia``, ``Marino``,
    ``April``, ``Jan``): they count as ambiguous. Dates are found before names, so ``07 Jun 2025``
    is a date already."""
    from faker.providers.address.en import Provider as En
    from faker.providers.address.en_US import Provider as EnUs

    return frozenset(w.lower() for p in (*En.countries, *EnUs.states) for w in re.findall(r"[^\W\d_][^\W\d_'\-]+", p)) | frozenset(_MONTHS)


def not_name_words() -> frozenset[str]:
    """Lower-case titles of nobility and weekday names: never taken as bare names."""
    return _NOT_NAMES


_NOT_NAMES = frozenset(_TITLES_AND_DAYS)

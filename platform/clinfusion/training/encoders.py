"""Which token cache training reads per modality: chosen by rule, never guessed.

Rule per modality (:func:`choose_encoder`):

1. the encoder named in the training config (``encoders: {radiology: radiomics}``); its cache must exist;
2. else the modality's registered default encoder when its cache exists (if other caches exist too,
   the default is used and the choice says so);
3. else the only cache there is (e.g. tokens written by a custom encoder);
4. else several caches and none of them the default: refused, naming them (set ``encoders:``).

Never the alphabetically first. :func:`choose_encoders` applies it to a workspace and refuses a
modality that has ingested items but no tokens (featurize not run, or failed for every patient),
unless the caller names the modalities to use and leaves it out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from clinfusion.errors import ConfigError, FeaturizeError

TOKENLESS_OK: frozenset[str] = frozenset({"clinical"})
"""Modalities whose data reaches the model without tokens: the clinical table always feeds the
outcomes and the wide (covariate) path, so a missing clinical token cache is not a lost modality."""


@dataclass(frozen=True)
class EncoderChoice:
    """The token cache training reads for one modality.

    Attributes:
        modality: modality name.
        encoder: encoder (cache folder) name.
        source: ``configured``, ``default`` or ``only cache``.
        patients: patients with tokens in that cache.
        others: the other caches of the modality (not used).
    """

    modality: str
    encoder: str
    source: str
    patients: int = 0
    others: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line, e.g. ``radiology: radiomics (configured; 30 patients with tokens; also cached: monai_cnn)``."""
        also = f"; also cached: {', '.join(self.others)} (not used; choose with encoders: {{{self.modality}: NAME}})" \
            if self.others else ""
        return f"{self.modality}: {self.encoder} ({self.source}; {self.patients} patients with tokens{also})"

    def as_dict(self) -> dict:
        return asdict(self)


def registered_default(modality: str) -> str | None:
    """The modality's registered default encoder, or None (unknown modality, or one without encoders)."""
    from clinfusion.modalities.registry import MODALITY_PLUGINS, default_encoder

    if modality not in MODALITY_PLUGINS:
        return None
    try:
        return default_encoder(modality)
    except ConfigError:  # a modality without encoders
        return None


def choose_encoder(modality: str, cached: Sequence[str], configured: str | None = None,
                   default: str | None = None) -> tuple[str, str] | None:
    """Apply the rule of the module docstring to one modality (pure: no files).

    Args:
        modality: modality name (for messages).
        cached: encoder names that have a token cache for this modality.
        configured: the training config's ``encoders[modality]``, if any.
        default: the modality's registered default encoder, if any.

    Returns:
        ``(encoder, source)``, or None when no cache exists.

    Raises:
        FeaturizeError: the configured encoder has no cache.
        ConfigError: several caches, none of them the default, and none configured.
    """
    cached = sorted(cached)
    if configured:
        if configured not in cached:
            raise FeaturizeError(f"training config names encoder {configured!r} for {modality}, but it has no token "
                                 f"cache (cached: {cached or 'none'}); run `clinfusion featurize -m {modality} -e "
                                 f"{configured}`", field=f"encoders.{modality}")
        return configured, "configured"
    if default is not None and default in cached:
        return default, "default"
    if len(cached) == 1:
        return cached[0], "only cache"
    if cached:
        raise ConfigError(f"{modality} has token caches {cached} and none is its default encoder {default!r}: "
                          f"choose one in the training config, e.g. encoders: {{{modality}: {cached[0]}}}",
                          field=f"encoders.{modality}")
    return None


def token_caches(ws) -> dict[str, dict[str, int]]:
    """``{modality: {encoder: patients with tokens}}`` of every token cache with an index."""
    from clinfusion.featurize.cache import read_index

    out: dict[str, dict[str, int]] = {}
    if ws.tokens_dir.exists():
        for index in sorted(ws.tokens_dir.glob("*/*/index.json")):
            m, enc = index.parent.parent.name, index.parent.name
            out.setdefault(m, {})[enc] = len(read_index(ws, m, enc).get("patients", {}))
    return out


def ingested_counts(ws) -> dict[str, int]:
    """``{modality: ingested items}`` from the workspace catalog."""
    from clinfusion.workspace import read_catalog

    cat = read_catalog(ws)
    return {str(m): int(n) for m, n in cat.loc[cat["status"] == "ingested", "modality"].value_counts().items()}


def _missing_error(ws, missing: Mapping[str, str], used: Sequence[str]) -> FeaturizeError:
    keep = ",".join(used) or "MODALITY"
    lines = "; ".join(f"{m}: {why}" for m, why in missing.items())
    first = next(iter(missing))
    return FeaturizeError(f"no tokens for {sorted(missing)} ({lines}). Run `clinfusion featurize --workspace {ws.root} "
                          f"--modality {first}`, or train without it: --modalities {keep}",
                          file=ws.tokens_dir, field=f"modalities.{first}")


def choose_encoders(ws, modalities: Sequence[str] | None = None, encoders: Mapping[str, str] | None = None,
                    *, strict: bool = True) -> list[EncoderChoice]:
    """The token cache of every modality training uses.

    Args:
        ws: the workspace.
        modalities: the modalities to use (``--modalities``); None: every modality with ingested
            items or a token cache.
        encoders: the training config's ``encoders:``.
        strict: refuse a modality without tokens (with ``modalities`` None: any ingested modality
            except :data:`TOKENLESS_OK`); False skips it (scoring with a model that ignores it).

    Raises:
        FeaturizeError: a modality without tokens (strict), or a configured encoder without a cache.
        ConfigError: an ambiguous choice (see :func:`choose_encoder`).
    """
    caches, configured = token_caches(ws), dict(encoders or {})
    ingested = ingested_counts(ws)
    explicit = modalities is not None and len(modalities) > 0
    wanted = list(modalities) if explicit and modalities is not None else sorted(set(caches) | set(ingested))
    out, missing = [], {}
    for m in wanted:
        per = caches.get(m, {})
        picked = choose_encoder(m, list(per), configured.get(m), registered_default(m))
        if picked is not None and per[picked[0]] > 0:
            out.append(EncoderChoice(m, picked[0], picked[1], per[picked[0]], tuple(e for e in sorted(per) if e != picked[0])))
            continue
        if not explicit and m in TOKENLESS_OK:
            continue
        if picked is not None:
            missing[m] = f"the {picked[0]} cache holds no patient (featurize failed for all; see its index.json)"
        elif m in ingested:
            missing[m] = f"{ingested[m]} ingested item(s), never featurized"
        else:
            missing[m] = "not ingested and no token cache"
    if missing and strict:
        raise _missing_error(ws, missing, [c.modality for c in out])
    return out

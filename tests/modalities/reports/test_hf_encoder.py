"""``hf_encoder`` (local Hugging Face BERT directory, sliding windows) and model_path options of
``local_transformer`` / ``tfidf_svd``.

The test writes 2-layer BERT directories with ``transformers`` (BertConfig + BertModel.save_pretrained
+ a fast tokenizer over a tiny vocabulary) and report records in the reader's layout.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from clinfusion.errors import ConfigError
from clinfusion.featurize.options import validate_options
from clinfusion.modalities.reports.features import ENCODERS, LocalTransformerEncoder, TfidfSvdEncoder
from clinfusion.modalities.reports.hf_encoder import HFEncoder, WindowedHFBackend
from clinfusion.modalities.reports.record import build_record, write_records
from clinfusion.workspace import Workspace

WORDS = ["the", "lungs", "are", "clear", "no", "effusion", "small", "nodule", "in", "right", "upper", "lobe", "heart", "size", "normal", "impression", "findings"]
SHORT = "FINDINGS: The lungs are clear. No effusion.\nIMPRESSION: Normal heart size."
LONG = "FINDINGS: " + " ".join(["Small nodule in right upper lobe."] * 12) + "\nIMPRESSION: Small nodule."


def _bert_dir(path, seed: int):
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ":", *WORDS]
    BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True).save_pretrained(str(path))
    assert (path / "vocab.txt").is_file() or (path / "tokenizer.json").is_file()
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=len(WORDS) + 7, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64)
    BertModel(cfg).eval().save_pretrained(str(path))
    return path


@pytest.fixture(scope="module")
def berts(tmp_path_factory):
    d = tmp_path_factory.mktemp("bert")
    return _bert_dir(d / "a", 0), _bert_dir(d / "b", 1)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("repws")
    art = root / "artifacts" / "reports" / "i0"
    recs = [build_record(0, "CT", "", "a.txt", SHORT), build_record(1, "CT", "", "b.txt", LONG)]
    write_records(art, "p0", recs)
    return Workspace(root), pd.DataFrame([{"item_id": "i0", "artifact_dir": "artifacts/reports/i0"}])


def _encode(workspace, **options):
    ws, rows = workspace
    return HFEncoder(options).encode("p0", rows, ws)


def test_report_tokens_from_loaded_weights(workspace, berts):
    a, b = berts
    t = _encode(workspace, model_dir=str(a), max_length=16, stride=4)
    assert t.tokens.shape == (2, 16) and t.groups.tolist() == [0, 1] and t.positions.tolist() == [[0.0], [1.0]]
    assert np.array_equal(t.tokens, _encode(workspace, model_dir=str(a), max_length=16, stride=4).tokens)
    other = _encode(workspace, model_dir=str(b), max_length=16, stride=4)
    assert np.abs(other.tokens - t.tokens).max() > 1e-4, "another checkpoint gives other tokens"
    cls = _encode(workspace, model_dir=str(a), max_length=16, stride=4, pooling="cls")
    assert np.abs(cls.tokens - t.tokens).max() > 1e-4
    sent = _encode(workspace, model_dir=str(a), unit="sentence")
    assert sent.tokens.shape[1] == 16 and sent.positions.shape == (sent.n_tokens, 2) and sent.n_tokens > 2


def test_long_text_is_the_mean_of_its_windows(berts):
    a, _ = berts
    be = WindowedHFBackend(a, max_length=16, stride=4)
    enc = be.tokenizer([LONG], truncation=True, max_length=16, stride=4, return_overflowing_tokens=True)
    assert len(enc["input_ids"]) > 3, "the long report needs several windows at max_length 16"
    windows = [be.tokenizer.decode(ids, skip_special_tokens=True) for ids in enc["input_ids"]]
    each = np.stack([be.embed([w])[0] for w in windows])
    assert np.allclose(be.embed([LONG])[0], each.mean(axis=0), atol=1e-5)
    first = WindowedHFBackend(a, max_length=16, stride=0).embed([windows[0]])[0]
    assert np.abs(be.embed([LONG])[0] - first).max() > 1e-4, "not just the first window (truncation)"


def test_cache_key_options_and_missing_weights(workspace, berts, tmp_path):
    import shutil

    a, b = berts
    assert "hf_encoder" in ENCODERS
    key = HFEncoder({"model_dir": str(a)}).config_hash()
    shutil.copytree(a, tmp_path / "moved")
    assert HFEncoder({"model_dir": str(tmp_path / "moved")}).config_hash() == key
    assert HFEncoder({"model_dir": str(b)}).config_hash() != key
    ws, rows = workspace
    with pytest.raises(ConfigError, match="needs weights: set --option model_dir=PATH"):
        HFEncoder().encode("p0", rows, ws)
    with pytest.raises(ConfigError, match="stride"):
        HFEncoder({"model_dir": str(a), "max_length": 32, "stride": 20})
    with pytest.raises(ConfigError, match="valid options"):
        HFEncoder({"model_path": str(a)})
    with pytest.raises(ConfigError, match="config.json"):
        HFEncoder({"model_dir": str(tmp_path)}).setup(ws, rows)


def test_local_transformer_and_tfidf_take_model_path_as_an_option(workspace, berts):
    a, _ = berts
    ws, rows = workspace
    for cls in (LocalTransformerEncoder, TfidfSvdEncoder):
        with pytest.raises(ConfigError, match="--option model_path=PATH"):
            cls().config_hash()  # constructible without options; refuses to run with a readable message
    opts = validate_options(LocalTransformerEncoder.Config, {"model_path": str(a), "max_length": 16}, "--option")
    t = LocalTransformerEncoder(opts).encode("p0", rows, ws)
    assert t.dim == 16 and t.n_tokens > 2

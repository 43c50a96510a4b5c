"""The optional ``wav2vec2`` backend, on a tiny randomly initialised model saved locally."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from openinfp.core.errors import ConfigError
from openinfp.core.interfaces import ConditionInputs


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    torch.manual_seed(0)
    config = Wav2Vec2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                            conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)
    path = tmp_path_factory.mktemp("w2v") / "tiny"
    Wav2Vec2Model(config).save_pretrained(path)
    return path


def test_loads_local_model_and_aligns_frames(tiny_model_dir, talk, registry):
    conv, _ = talk
    cond = registry.conditioner("wav2vec2", {"model_path": str(tiny_model_dir), "chunk_s": 4.0})
    assert cond.feature_dim == 32 and cond.frame_rate == pytest.approx(50.0)
    T = conv.num_frames(25.0)
    tokens = cond.encode(ConditionInputs(audio=conv), T)
    assert [(t.name, t.role, tuple(t.tokens.shape)) for t in tokens] == [("wav2vec2", "agent", (T, 32)),
                                                                         ("wav2vec2", "partner", (T, 32))]
    again = cond.encode(ConditionInputs(audio=conv), T)
    assert all(torch.equal(a.tokens, b.tokens) for a, b in zip(tokens, again))
    # 30 fps gives the 30 fps frame count for the same audio.
    assert cond.encode(ConditionInputs(audio=conv, fps=30.0), conv.num_frames(30.0))[0].tokens.shape[0] == \
        conv.num_frames(30.0)
    # Chunking keeps time aligned: chunked and whole-track states agree away from chunk edges.
    whole = registry.conditioner("wav2vec2", {"model_path": str(tiny_model_dir), "chunk_s": 60.0})
    ref = whole.track_tokens(conv.agent, 25.0, T).numpy()
    got = tokens[0].tokens.numpy()
    inner = np.r_[10:90, 110:190] if T > 200 else np.r_[10:90]
    corr = np.corrcoef(ref[inner].ravel(), got[inner].ravel())[0, 1]
    assert corr > 0.9, corr


def test_bad_model_path_is_a_config_error(tmp_path, registry, tiny_model_dir):
    with pytest.raises(ConfigError, match="layer 5 does not exist; the model has 3 hidden states"):
        registry.conditioner("wav2vec2", {"model_path": str(tiny_model_dir), "layer": 5})
    with pytest.raises(ConfigError, match="not a folder with config.json"):
        registry.conditioner("wav2vec2", {"model_path": str(tmp_path / "missing")})
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="cannot load a model"):
        registry.conditioner("wav2vec2", {"model_path": str(tmp_path / "broken")})

"""The ``text`` (MiniLM) and ``image`` (head tracker) conditioners."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from openinfp.core.errors import ConfigError, InputError
from openinfp.core.interfaces import Conditioner, ConditionInputs


@pytest.fixture(scope="module")
def text_conditioner():
    from openinfp.core.registry import Registry

    return Registry.create(autoload=False).conditioner("text")


def test_text_tokens_shape_and_determinism(text_conditioner):
    assert isinstance(text_conditioner, Conditioner) and text_conditioner.feature_dim == 384
    tok, behaviour = text_conditioner.encode(ConditionInputs(text="calm speaker, nods a lot while listening"), 50)
    assert behaviour.name == "behaviour" and behaviour.kind == "global"  # the prompt's explicit reading
    assert tok.name == "text" and tok.kind == "global" and tok.role is None
    assert tuple(tok.tokens.shape) == (1, 384) and tok.tokens.dtype == torch.float32
    assert torch.linalg.norm(tok.tokens) == pytest.approx(1.0, abs=1e-4)
    again, _ = text_conditioner.encode(ConditionInputs(text="  calm speaker,   nods a lot while listening "), 7)
    assert torch.allclose(tok.tokens, again.tokens, atol=1e-6)  # whitespace-normalised, frame count irrelevant
    assert text_conditioner.encode(ConditionInputs(text="   "), 5) == []
    assert text_conditioner.encode(ConditionInputs(), 5) == []
    with pytest.raises(InputError, match="characters; keep it under 1000"):
        text_conditioner.encode(ConditionInputs(text="nod " * 400), 5)


def test_related_prompts_are_closer_than_unrelated(text_conditioner):
    from openinfp.conditioners.text import embed_texts

    pairs = [
        ("calm speaker, nods a lot while listening", "a relaxed listener who nods often",
         "the quarterly tax report is due on Friday"),
        ("very excited, big smiles and lively head movement", "enthusiastic and animated, smiling a lot",
         "please water the plants twice a week"),
        ("serious and still, hardly moves the head", "stern expression, keeps the head very still",
         "the train to Berlin leaves at noon"),
    ]
    table = embed_texts([text for triple in pairs for text in triple])  # one batch: [9, 384]
    assert torch.allclose(table[0], text_conditioner.encode(ConditionInputs(text=pairs[0][0]), 1)[0].tokens[0],
                          atol=1e-5)
    for k, (anchor, related, unrelated) in enumerate(pairs):
        a, r, u = table[3 * k], table[3 * k + 1], table[3 * k + 2]
        close, far = float(a @ r), float(a @ u)
        print(f"\n{anchor!r}: related {close:.2f}, unrelated {far:.2f}")
        assert close > far + 0.2


@pytest.fixture(scope="module")
def image_tokens(astronaut):
    from openinfp.conditioners.image import ImageConditioner

    cond = ImageConditioner()
    first = cond.encode(ConditionInputs(image=astronaut), 25)
    second = cond.encode(ConditionInputs(image=astronaut.copy()), 3)
    cond.close()
    return first, second


def test_image_tokens_from_a_real_photo(image_tokens, registry):
    from openinfp.head.motion_space import head_motion_space

    first, second = image_tokens
    (tok,) = first
    space = head_motion_space()
    assert tok.name == "image" and tok.kind == "global" and tuple(tok.tokens.shape) == (1, space.dim) == (1, 62)
    assert torch.equal(tok.tokens, second[0].tokens)  # deterministic
    motion = tok.tokens[0]
    arkit = space.get(motion, "arkit")
    assert arkit.min() >= 0 and arkit.max() <= 1 and arkit.sum() > 0.05  # she smiles a little
    rot = space.get(motion, "head_rotation")
    assert not torch.allclose(rot, space.get(space.neutral(), "head_rotation"), atol=1e-3)  # head is turned
    spec = registry.spec("conditioners", "image")
    assert spec.token_kind == "global" and spec.input == "image"


def test_image_options_switch_parts_to_neutral(astronaut, image_tokens):
    from openinfp.conditioners.image import ImageConditioner
    from openinfp.conditioners.options import ImageConditionerOptions
    from openinfp.head.motion_space import head_motion_space

    space = head_motion_space()
    full = image_tokens[0][0].tokens[0]
    face_only = ImageConditioner(ImageConditionerOptions(pose=False)).encode(ConditionInputs(image=astronaut), 1)
    motion = face_only[0].tokens[0]
    for part in space.group("pose"):
        assert torch.equal(space.get(motion, part), space.get(space.neutral(), part))
    assert torch.allclose(space.get(motion, "arkit"), space.get(full, "arkit"))
    with pytest.raises(ConfigError, match="both off"):
        ImageConditioner(ImageConditionerOptions(pose=False, expression=False))


def test_image_without_a_face_or_bad_shape():
    from openinfp.conditioners.image import ImageConditioner

    cond = ImageConditioner()
    assert cond.encode(ConditionInputs(), 5) == []
    with pytest.raises(InputError, match="no face found in the style image"):
        cond.encode(ConditionInputs(image=np.full((256, 256, 3), 127, np.uint8)), 5)
    with pytest.raises(InputError, match=r"\[H, W, 3\] RGB"):
        cond.encode(ConditionInputs(image=np.zeros((64, 64), np.uint8)), 5)
    cond.close()

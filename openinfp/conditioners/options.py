"""Option dataclasses of the built-in conditioners.

Kept in a module of plain dataclasses (no torch, no numpy) so the plugin registry can
validate ``conditioners[i].options`` without importing the models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VISEME_SOURCES: tuple[str, ...] = ("pocketsphinx", "net")
"""Values of :attr:`PhoneticConditionerOptions.visemes`."""


@dataclass
class AudioConditionerOptions:
    """Options of the ``audio`` conditioner."""

    n_mels: int = field(default=40, metadata={"help": "log-mel bands (feature width = n_mels + 9)"})
    fmin: float = field(default=60.0, metadata={"help": "lowest mel frequency (Hz)"})
    fmax: float = field(default=7600.0, metadata={"help": "highest mel frequency (Hz)"})
    activity: bool = field(default=True, metadata={
        "help": "fill the speech-activity column (from the conversation, or Silero VAD when it has none)"})


@dataclass
class PhoneticConditionerOptions:
    """Options of the ``phonetic`` conditioner (PocketSphinx viseme posteriors)."""

    acoustic: bool = field(default=True, metadata={
        "help": "append the posteriors to the audio conditioner's acoustic features (else posteriors only)"})
    n_mels: int = field(default=40, metadata={"help": "log-mel bands of the acoustic features"})
    token_name: str = field(default="audio", metadata={
        "help": "name of the emitted tokens; 'audio' makes them the motion guider's per-track input"})
    visemes: str = field(default="pocketsphinx", metadata={
        "choices": VISEME_SOURCES,
        "help": "where the viseme posteriors come from: 'pocketsphinx' (phone recognition, hard phones) or "
                "'net' (the small learned frame classifier openinfp.audio.viseme_net, soft posteriors)"})


@dataclass
class TextConditionerOptions:
    """Options of the ``text`` conditioner."""

    max_chars: int = field(default=1000, metadata={
        "help": "longest accepted prompt; longer ones are refused, not silently cut"})
    behaviour: bool = field(default=True, metadata={
        "help": "also read head motion and nodding from the prompt as an explicit 'behaviour' token "
                "(openinfp.core.behaviour); false = only the learned MiniLM token"})


@dataclass
class ImageConditionerOptions:
    """Options of the ``image`` conditioner."""

    pose: bool = field(default=True, metadata={"help": "keep the photo's head pose (rotation, translation, scale)"})
    expression: bool = field(default=True, metadata={"help": "keep the photo's ARKit-52 expression weights"})
    face_index: int = field(default=0, metadata={"help": "which face when there are several (0 = largest)"})


@dataclass
class Wav2Vec2ConditionerOptions:
    """Options of the ``wav2vec2`` conditioner."""

    model_path: str = field(default="", metadata={
        "help": "local folder written by save_pretrained (config.json + weights); nothing is downloaded"})
    layer: int = field(default=-1, metadata={"help": "hidden state to use: -1 = last, 0 = CNN feature projection"})
    token_name: str = field(default="wav2vec2", metadata={"help": "name of the emitted condition tokens"})
    chunk_s: float = field(default=20.0, metadata={"help": "encode long tracks in chunks of this many seconds"})
    device: str = field(default="cpu", metadata={"help": "torch device of the model"})

"""`ConditionTokens`: what every conditioner emits and the guider consumes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

import torch

from openinfp.core.errors import InputError

TokenKind = Literal["frame", "global"]


@dataclass
class ConditionTokens:
    """Condition tokens of one modality.

    Attributes:
        name: the conditioner's registered name (the guider projects tokens by name).
        tokens: float tensor ``[T, D]`` frame-aligned at the motion frame rate
            (``kind == "frame"``) or ``[N, D]`` global tokens (``kind == "global"``).
        kind: ``"frame"`` or ``"global"``.
        mask: optional bool ``[T]`` / ``[N]``; ``True`` marks valid tokens.
            ``None`` means all valid.
        role: for frame tokens derived from one participant, ``"agent"`` or
            ``"partner"``; ``None`` for tokens not tied to a person (text, image).
    """

    name: str
    tokens: torch.Tensor
    kind: TokenKind = "frame"
    mask: Optional[torch.Tensor] = None
    role: Optional[str] = None

    def __post_init__(self) -> None:
        if self.kind not in ("frame", "global"):
            raise InputError(f"ConditionTokens {self.name!r}: kind must be 'frame' or 'global', got {self.kind!r}")
        if not isinstance(self.tokens, torch.Tensor) or self.tokens.ndim != 2:
            shape = getattr(self.tokens, "shape", type(self.tokens).__name__)
            raise InputError(f"ConditionTokens {self.name!r}: tokens must be a 2-D tensor [T, D], got {shape}")
        if not torch.is_floating_point(self.tokens):
            raise InputError(f"ConditionTokens {self.name!r}: tokens must be floating point, got {self.tokens.dtype}")
        if not torch.isfinite(self.tokens).all():
            raise InputError(f"ConditionTokens {self.name!r}: tokens contain NaN or infinite values")
        if self.mask is not None:
            if self.mask.shape != self.tokens.shape[:1] or self.mask.dtype != torch.bool:
                raise InputError(
                    f"ConditionTokens {self.name!r}: mask must be bool of shape {tuple(self.tokens.shape[:1])}, "
                    f"got {self.mask.dtype} {tuple(self.mask.shape)}"
                )
        if self.role not in (None, "agent", "partner"):
            raise InputError(f"ConditionTokens {self.name!r}: role must be None, 'agent' or 'partner', "
                             f"got {self.role!r}")

    @property
    def length(self) -> int:
        """Number of tokens (T or N)."""
        return int(self.tokens.shape[0])

    @property
    def dim(self) -> int:
        """Token width D."""
        return int(self.tokens.shape[1])

    def valid_mask(self) -> torch.Tensor:
        """The mask, or all-True when none was given. ``[T]`` bool."""
        if self.mask is None:
            return torch.ones(self.length, dtype=torch.bool, device=self.tokens.device)
        return self.mask

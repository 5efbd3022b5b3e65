"""A small 1D ResNet for ECG windows or single leads (trainable; optional local checkpoint).

Architecture (after He et al. 2016, as used for ECG by Ribeiro et al. 2020, smaller): a strided
stem convolution, ``n_blocks`` residual blocks of two ``kernel``-wide convolutions each halving
the length, global average pooling and a linear projection to ``dim``.

Shapes:
    input: ``[B, in_channels, S]`` (mV); output: ``[B, dim]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clinfusion.errors import FeaturizeError


def _block(torch_nn: Any, c_in: int, c_out: int, kernel: int) -> Any:
    nn = torch_nn
    module: Any = nn.Module  # torch.nn.Module, passed in so that importing this module stays cheap

    class Block(module):
        def __init__(self) -> None:
            super().__init__()
            pad = kernel // 2
            self.conv1 = nn.Conv1d(c_in, c_out, kernel, stride=2, padding=pad, bias=False)
            self.bn1 = nn.BatchNorm1d(c_out)
            self.conv2 = nn.Conv1d(c_out, c_out, kernel, padding=pad, bias=False)
            self.bn2 = nn.BatchNorm1d(c_out)
            self.skip = nn.Sequential(nn.Conv1d(c_in, c_out, 1, stride=2, bias=False), nn.BatchNorm1d(c_out))
            self.act = nn.ReLU()

        def forward(self, x):
            y = self.act(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return self.act(y + self.skip(x))

    return Block()


def build_resnet1d(in_channels: int = 12, dim: int = 64, width: int = 16, n_blocks: int = 4, kernel: int = 9):
    """Build the network (torch imported here, so importing this module stays cheap).

    Args:
        in_channels: 12 for window tokens, 1 for lead tokens.
        dim: output embedding size.
        width: channels after the stem; doubled every second block.
        n_blocks: residual blocks (each halves the length).
        kernel: convolution width in samples (odd).
    """
    import torch.nn as nn

    layers: list[Any] = [nn.Conv1d(in_channels, width, 15, stride=2, padding=7, bias=False), nn.BatchNorm1d(width),
                         nn.ReLU(), nn.MaxPool1d(3, stride=2, padding=1)]
    c = width
    for i in range(n_blocks):
        c_out = width * 2 ** ((i + 1) // 2)
        layers.append(_block(nn, c, c_out, kernel))
        c = c_out
    layers += [nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(c, dim)]
    return nn.Sequential(*layers)


def save_checkpoint(model, path: str | Path, arch: dict[str, int]) -> None:
    """Save ``{"arch": arch, "state_dict": ...}`` (loadable with ``weights_only=True``)."""
    import torch

    torch.save({"arch": dict(arch), "state_dict": model.state_dict()}, str(path))


def load_checkpoint(path: str | Path, arch: dict[str, int]):
    """Build the network for ``arch`` and load a local checkpoint made by :func:`save_checkpoint`.

    Raises:
        FeaturizeError: missing file, or a checkpoint of another architecture.
    """
    import torch

    p = Path(path)
    if not p.is_file():
        raise FeaturizeError("checkpoint file not found", file=p, field="checkpoint")
    ckpt = torch.load(str(p), map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise FeaturizeError("expected a checkpoint {'arch', 'state_dict'} saved by save_checkpoint", file=p,
                             field="checkpoint")
    saved = {k: int(v) for k, v in dict(ckpt.get("arch", {})).items()}
    if saved != dict(arch):
        raise FeaturizeError(f"checkpoint architecture {saved} differs from the encoder config {dict(arch)}",
                             file=p, field="arch")
    model = build_resnet1d(**arch)
    model.load_state_dict(ckpt["state_dict"], strict=True)
    return model

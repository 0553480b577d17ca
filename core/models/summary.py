"""A layer-by-layer summary of an autoencoder, like Keras' ``model.summary()``.

Forward hooks on every leaf module record the output shape of each layer while one dummy batch
runs through ``forward`` (encoder, then decoder), so the rows come out in execution order.
"""

from __future__ import annotations

import torch
from torch import nn


def layer_summary(model: nn.Module, image_shape: tuple[int, int, int]) -> list[dict]:
    """One row per executed leaf layer.

    Parameters
    ----------
    model : nn.Module
        An autoencoder from ``core.models`` (its ``forward`` takes images (N, C, H, W)).
    image_shape : (C, H, W)

    Returns
    -------
    list of dict
        ``layer`` (qualified name), ``type``, ``output_shape`` (tuple, batch dimension shown as
        None), ``params`` (parameters owned by that layer), ``trainable`` (bool).
    """
    rows: list[dict] = []
    names = {module: name for name, module in model.named_modules()}

    def hook(module, _inputs, output):
        out = output["code"] if isinstance(output, dict) else output
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else ()
        params = list(module.parameters(recurse=False))
        rows.append({
            "layer": names.get(module, type(module).__name__),
            "type": type(module).__name__,
            "output_shape": (None, *shape[1:]) if shape else (),
            "params": sum(p.numel() for p in params),
            "trainable": all(p.requires_grad for p in params) if params else True,
        })

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        with torch.inference_mode():
            model(torch.zeros((2, *image_shape), device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return rows


def parameter_count(model: nn.Module) -> int:
    """Total number of parameters."""
    return sum(p.numel() for p in model.parameters())


def decoder_parameter_count(model: nn.Module) -> int:
    """Parameters the decoder uses: those a decode of one code reaches (``model.decode``, (1, d) in).

    Families name their halves differently (``decoder``, a shared ``trunk`` with a ``from_code``
    layer), so the count follows the computation, not module names: a parameter counts when a
    backward pass from the decoded image gives it a gradient.
    """
    was_training = model.training
    model.eval()
    model.zero_grad(set_to_none=True)
    try:
        device = next(model.parameters()).device
        model.decode(torch.zeros((1, model.latent_dim), device=device)).sum().backward()
        return sum(p.numel() for p in model.parameters() if p.grad is not None)
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)

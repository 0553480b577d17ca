"""Sparse autoencoder: the dense architecture with a sparsity penalty on the code.

``sparsity='l1'`` adds ``weight * mean_n sum_j |z_nj|``; ``sparsity='kl'`` squashes the code with a
sigmoid and adds ``weight * sum_j KL(rho || mean_n z_nj)`` (the classic KL sparsity of Ng's notes).
"""

from __future__ import annotations

import torch

from core.models.dense import DenseAutoencoder


class SparseAutoencoder(DenseAutoencoder):
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        code = super().encode(x)
        return torch.sigmoid(code) if self.config.sparsity == "kl" else code

    def regularizer(self, out: dict) -> torch.Tensor:
        code, weight = out["code"], self.config.sparsity_weight
        if self.config.sparsity == "l1":
            return weight * code.abs().sum(dim=1).mean()
        rho = self.config.sparsity_target
        rho_hat = code.mean(dim=0).clamp(1e-6, 1 - 1e-6)
        kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
        return weight * kl.sum()

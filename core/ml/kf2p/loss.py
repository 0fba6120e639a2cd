"""KF2P training loss and step: flow losses on the refiner's state plus joint positions and
velocities through differentiable forward kinematics (``StreamLoss``), batches to tensors and one
optimizer step's loss (``training_step``). Shared by training and adaptation."""

from __future__ import annotations

import numpy as np

from .data import Batch


def _norm(d):
    """Euclidean norm over the last axis with a finite gradient at 0."""
    return ((d * d).sum(-1) + 1e-6).sqrt()


class StreamLoss:
    """Flow losses on the state + weighted joint positions / velocities through FK."""

    @classmethod
    def for_spec(cls, spec, device, **kw) -> StreamLoss:
        return cls(spec.stream, spec.res_scale, device, phase_scale=spec.phase_scale if spec.timing else None, **kw)

    def __init__(
        self,
        stream: str,
        res_scale: float,
        device,
        pos_weight: float = 1.0,
        pos_vel_weight: float = 0.5,
        flow_weight: float = 0.2,
        phase_scale: float | None = None,
    ) -> None:
        import torch

        from ...kinematics.fk_torch import TorchFK
        from ..refiner import RefinerSpec, stream_points

        sp = stream_points(stream)
        sk = sp["skeleton"]
        self.stream = stream
        # the model kind and state scales (``refiner.refined``); phase_scale None: a residual model
        self.spec = RefinerSpec(
            stream,
            10 if stream == "body" else 15,
            res_scale=res_scale,
            timing=phase_scale is not None,
            phase_scale=phase_scale or 0.1,
        )
        self.fk = TorchFK(sk).to(device)
        self.pts = torch.as_tensor(sp["points"], device=device)
        self.is_tip = torch.as_tensor(sp["is_tip"], device=device)
        self.tips = torch.as_tensor(np.array(sk.tips), dtype=torch.float32, device=device)
        w = sp["weights"]
        self.w = torch.as_tensor(w / w.mean(), dtype=torch.float32, device=device)
        self.depends = torch.as_tensor(sp["depends"], device=device)  # (P, n)
        self.n_fixed = sp["n_fixed"]
        self.pos_weight, self.pos_vel_weight, self.flow_weight = pos_weight, pos_vel_weight, flow_weight

    def positions(self, rot):
        """(B, T, n, 3, 3) stream rotations -> (B, T, P, 3) points, centimetres."""
        import torch

        b, t = rot.shape[:2]
        fixed = torch.eye(3, dtype=rot.dtype, device=rot.device).expand(b, t, self.n_fixed, 3, 3)
        full = torch.cat([fixed, rot], dim=2)
        pos, wr = self.fk(full, return_rotations=True)
        tips = pos + (wr @ self.tips.to(rot.dtype)[:, :, None])[..., 0]
        p = torch.where(self.is_tip[:, None], tips[:, :, self.pts], pos[:, :, self.pts])
        return p * 100.0

    def point_weights(self, valid, obs, ymask):
        """(B, T, P) float: a point counts where every rotation moving it is real (valid) and
        bracketed by observations (in-betweening, not extrapolation past the first / last key,
        which only holds a pose), and at least one of them is generated (not observed)."""
        from ..refiner import bracket_torch

        dep = self.depends  # (P, n)
        _, _, _, gap = bracket_torch(obs)
        inside = (gap > 0) | obs
        ok = ((valid & inside)[:, :, None, :] | ~dep).all(-1)
        generated = (~obs[:, :, None, :] & dep).any(-1)
        return (ok & generated & ymask[..., None]).float()

    def position_terms(self, rot_hat, rot_gt, pw):
        """Weighted mean Euclidean error (cm) of points and of their frame-to-frame velocities
        (cm / frame); pw (B, T, P). Distances, not squares: tracking jitter in the targets is
        heavy-tailed, and the metrics (MPJPE, DTW-JPE) are means of distances."""
        p_hat, p_gt = self.positions(rot_hat), self.positions(rot_gt)
        w = pw * self.w
        err = _norm(p_hat - p_gt)  # (B, T, P)
        pos = (err * w).sum() / w.sum().clamp_min(1e-6)
        v_hat, v_gt = p_hat[:, 1:] - p_hat[:, :-1], p_gt[:, 1:] - p_gt[:, :-1]
        wv = w[:, 1:] * (pw[:, :-1] > 0)
        vel = (_norm(v_hat - v_gt) * wv).sum() / wv.sum().clamp_min(1e-6)
        return pos, vel

    def point_errors(self, rot_hat, rot_gt, pw):
        """Sum of weighted point errors (cm, not squared) and the weight total."""
        e = (self.positions(rot_hat) - self.positions(rot_gt)).norm(dim=-1)
        return float((e * pw * self.w).sum()), float((pw * self.w).sum())


def tensors(batch: Batch, device, loss_fn: StreamLoss | None = None, timing: bool | None = None):
    """Batch -> torch inputs of the refiner: base, obs, cond, y_mask, target residual ``res``
    (radians, 0 where unknown; a timing model's: over the retimed path), its ``phase`` offsets
    (timing models, else None), the state's target mask ``target_ok`` and key mask ``mask``
    (B, C, T), and point weights. ``timing`` defaults to ``loss_fn``'s model kind."""
    import torch

    from ..refiner import geodesic_fill, joint_channels, refiner_condition, residual, timing_targets

    if timing is None:
        timing = loss_fn is not None and loss_fn.spec.timing
    gt = torch.from_numpy(batch.gt).to(device)
    obs = torch.from_numpy(batch.obs).to(device)
    valid = torch.from_numpy(batch.valid).to(device)
    ymask = torch.from_numpy(batch.y_mask).to(device)
    base = geodesic_fill(gt, obs, eased=True)
    cond = refiner_condition(base, obs)
    ok = valid & ymask[..., None]
    phase = None
    if timing:
        phase, res = timing_targets(base, obs, gt)
        phase = phase * ok.transpose(1, 2).to(phase.dtype)
    else:
        res = residual(base, gt)
    target_ok = joint_channels(ok, 3)
    res = res * target_ok.to(res.dtype)
    mask = joint_channels(obs, 3)
    if timing:
        target_ok = torch.cat([ok.transpose(1, 2), target_ok], dim=1)
        mask = torch.cat([obs.transpose(1, 2), mask], dim=1)
    d = dict(
        gt=gt,
        base=base,
        obs=obs,
        cond=cond,
        ymask=ymask[:, None, :],
        res=res,
        phase=phase,
        target_ok=target_ok,
        mask=mask,
    )
    if loss_fn is not None:
        d["pw"] = loss_fn.point_weights(valid, obs, ymask)
    return d


def target_state(d, loss_fn: StreamLoss):
    """The flow target x1 (B, C, T) of ``tensors`` output: residuals / res_scale, after the
    phase offsets / phase_scale for a timing model."""
    import torch

    x1 = d["res"] / loss_fn.spec.res_scale
    if d["phase"] is not None:
        x1 = torch.cat([d["phase"] / loss_fn.spec.phase_scale, x1], dim=1)
    return x1


def training_step(
    model,
    loss_fn: StreamLoss,
    batch: Batch,
    gen,
    text_encoder,
    device,
    text_dropout: float = 0.1,
    det_frac: float = 0.5,
    t0_frac: float = 0.3,
):
    """One forward pass; returns (total loss, dict of float terms).

    ``det_frac`` of the samples start from x0 = 0 (the deterministic default at inference), the
    rest from s N(0, 1), s ~ U(0.2, 1); ``t0_frac`` of the deterministic ones are drawn at
    t = 1e-3, where the sampler's first (and most decisive) step is taken."""
    import torch

    from ..flow import drop_text, estimate_x1, flow_losses, interpolate, sample_t
    from ..refiner import refined

    d = tensors(batch, device, loss_fn)
    b = d["res"].shape[0]
    x1 = target_state(d, loss_fn)
    det = torch.rand(b, generator=gen) < det_frac
    scale = torch.where(det, torch.zeros(b), 0.2 + 0.8 * torch.rand(b, generator=gen))
    x0 = (torch.randn(x1.shape, generator=gen) * scale[:, None, None]).to(device)
    t = sample_t(b, generator=gen)
    t = torch.where(det & (torch.rand(b, generator=gen) < t0_frac), torch.full_like(t, 1e-3), t).to(device)
    kf = d["mask"]
    text = drop_text(text_encoder(batch.texts, batch.langs).to(device), text_dropout, gen)
    x_t = interpolate(x1, x0, t, kf)
    v = model(x_t, t, torch.zeros_like(x1), kf, d["ymask"], d["cond"], text)
    # flow terms over the channels with a real target (a per-channel mask: flow_losses divides
    # by J * count, so scale back by J)
    j = x1.shape[1]
    fl = flow_losses(v, x1, x0, t, d["target_ok"] & d["ymask"], kf)
    fl = {k: val * j for k, val in fl.items()}
    x1_hat = estimate_x1(x_t, v, t)
    rot_hat = refined(d["base"], d["obs"], x1_hat, loss_fn.spec, 1.0)
    pos, pvel = loss_fn.position_terms(rot_hat, d["gt"], d["pw"])
    total = loss_fn.flow_weight * fl["loss"].mean() + loss_fn.pos_weight * pos + loss_fn.pos_vel_weight * pvel
    terms = {k: float(fl[k].mean().detach()) for k in ("flow", "recon", "vel", "acc")}
    terms.update(pos_cm=float(pos.detach()), pos_vel_cm=float(pvel.detach()), loss=float(total.detach()))
    return total, terms

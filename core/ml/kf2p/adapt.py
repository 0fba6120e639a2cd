""" "Adapt to this sequence": fine-tune the bundled refiner on a document's own SOURCE frames
(``kf2p.data.source_clips``)."""

from __future__ import annotations

from .data import Clips, Sampler
from .loss import StreamLoss, training_step


def adapt_inbetweener(
    inb,
    clips: Clips,
    steps: int = 150,
    lr: float = 2e-4,
    batch: int = 8,
    window: int = 64,
    seed: int = 0,
    cancel=None,
    progress=None,
):
    """A copy of ``inb`` whose refiner streams were fine-tuned on ``clips`` (``source_clips``).

    Few steps at a low learning rate from the bundled weights (the deterministic objective:
    x0 = 0), so an adapted model stays close to the bundled one. ``cancel()`` is checked between
    steps (returns None when cancelled); ``progress(done, total)`` after each. Streams without
    enough real frames in ``clips`` are left as they were."""
    import copy

    import torch

    from ..denormals import flushing_denormals
    from ..refiner import HashedTextEncoder
    from .inbetween import KF2PInbetweener, RefinerSampler

    streams = dict(inb.streams)
    work = [(name, s) for name, s in streams.items() if isinstance(s, RefinerSampler)]
    total = steps * len(work)
    done = 0
    for name, s in work:
        try:
            sampler = Sampler(clips, s.stream, window, seed)
        except ValueError:
            continue  # no usable frames of this stream
        model = copy.deepcopy(s.model).train()
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
        loss_fn = StreamLoss.for_spec(s.spec, "cpu")
        gen = torch.Generator().manual_seed(seed)
        enc = HashedTextEncoder()
        with flushing_denormals():
            for _ in range(steps):
                if cancel is not None and cancel():
                    return None
                loss, _ = training_step(
                    model,
                    loss_fn,
                    sampler.sample(batch, source_doc=0.5),
                    gen,
                    enc,
                    "cpu",
                    text_dropout=0.0,
                    det_frac=1.0,
                    t0_frac=0.5,
                )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                done += 1
                if progress is not None:
                    progress(done, total)
        streams[name] = RefinerSampler(
            model.eval(),
            strength=s.strength,
            variation=s.variation,
            method=s.method,
            max_window=s.max_window,
            geometry=s.geometry,
        )
    return KF2PInbetweener(
        streams,
        eased=inb.eased,
        steps=inb.steps,
        context=inb.context,
        batch=inb.batch,
        device=inb.device,
        name=f"{inb.name}+adapted",
    )

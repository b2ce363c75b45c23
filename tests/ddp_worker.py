"""Stage-2 steps on the tiny paired set, as one process or under torchrun; rank 0 saves the weights.

python tests/ddp_worker.py OUT.safetensors STEPS
python -m torch.distributed.run --standalone --nproc_per_node 2 tests/ddp_worker.py OUT.safetensors STEPS
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from voice2face.storage.checkpoint import state_dict_to_bytes
from voice2face.training.distributed import exit_process, init_distributed, shutdown

from tiny_gan import make_trainer


def main() -> None:
    out, steps = Path(sys.argv[1]), int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    torch.set_num_threads(1)
    context = init_distributed("cpu")
    # adaptive augmentation too: its probability follows D's signs on the global batch's real faces
    adaptive = {"augment": "color,translation,cutout", "augment_p": 0.5, "augment_target": 0.6, "augment_interval": 2}
    trainer = make_trainer(seed=seed, context=context, batch_size=8, mismatch_weight=1.0, **adaptive)
    for _ in range(steps):
        trainer.train_step()
    if context.is_main:
        state = {f"G.{k}": v for k, v in trainer.G.state_dict().items()}
        state.update({f"D.{k}": v for k, v in trainer.D.state_dict().items()})
        state["augment_p"] = torch.tensor([trainer.augmenter.p])
        out.write_bytes(state_dict_to_bytes(state))
    shutdown(context)
    exit_process(0)


if __name__ == "__main__":
    main()

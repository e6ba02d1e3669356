"""A random-weight Mistral Small 4-shaped checkpoint for testing the embedded engine.

Writes the Mistral-native format vLLM serves Mistral Small 4 from: `params.json` (MLA attention,
128 routed experts top-4 + 1 shared expert, `yarn` and `llama_4_scaling` blocks, so vLLM resolves
`MistralLarge3ForCausalLM`), `consolidated.safetensors` with Mistral tensor names, and
`tekken.json`, a Tekken v15 tokenizer synthesized from the vocabulary mistral_common ships plus the
v15 special tokens (`[THINK]`, `[TOOL_CALLS]`, `[ARGS]`, `[MODEL_SETTINGS]`...), since the real one
cannot be downloaded here. Only depth and width are shrunk.

Mistral Small 4's kv_lora_rank is 256; vLLM's CPU MLA decode kernel only supports DeepSeek-V3's
latent of 512 (+64 rope), so the CPU test model uses 512 (`CPU_KV_LORA_RANK`) and a GPU test
model can use the real 256 (`REAL_KV_LORA_RANK`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

REAL_KV_LORA_RANK = 256
CPU_KV_LORA_RANK = 512
VOCAB_SIZE = 131_072
NUM_EXPERTS = 128
EXPERTS_PER_TOKEN = 4
QK_ROPE_HEAD_DIM = 64
QK_NOPE_HEAD_DIM = 64
V_HEAD_DIM = 128


class TinySpec(BaseModel):
    """The shrinkable dimensions; everything else is Mistral Small 4's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    layers: int = Field(1, ge=1, le=64)
    hidden: int = Field(256, ge=64, multiple_of=64)
    kv_lora_rank: int = Field(CPU_KV_LORA_RANK, ge=64)
    heads: int = Field(4, ge=1)
    q_lora_rank: int = Field(128, ge=16)
    expert_hidden: int = Field(128, ge=16)
    seed: int = 0


def params_json(spec: TinySpec) -> dict[str, Any]:
    """Mistral-native model parameters with Mistral Small 4's structure."""
    return {
        "dim": spec.hidden,
        "n_layers": spec.layers,
        "n_heads": spec.heads,
        "n_kv_heads": spec.heads,
        "hidden_dim": spec.expert_hidden,
        "norm_eps": 1e-6,
        "vocab_size": VOCAB_SIZE,
        "tied_embeddings": False,
        "max_position_embeddings": 8192 * 32,
        "rope_theta": 10_000.0,
        "q_lora_rank": spec.q_lora_rank,
        "kv_lora_rank": spec.kv_lora_rank,
        "qk_rope_head_dim": QK_ROPE_HEAD_DIM,
        "qk_nope_head_dim": QK_NOPE_HEAD_DIM,
        "v_head_dim": V_HEAD_DIM,
        "moe": {
            "num_experts": NUM_EXPERTS,
            "num_experts_per_tok": EXPERTS_PER_TOKEN,
            "expert_hidden_dim": spec.expert_hidden,
            "num_shared_experts": 1,
            "first_k_dense_replace": 0,
            "route_every_n": 1,
            "routed_scale": 1.0,
            "num_expert_groups": 1,
            "num_expert_groups_per_tok": 1,
        },
        "yarn": {"factor": 32.0, "original_max_position_embeddings": 8192, "beta": 32.0, "alpha": 1.0},
        "llama_4_scaling": {"original_max_position_embeddings": 8192, "beta": 0.1},
    }


def tensor_shapes(spec: TinySpec) -> dict[str, tuple[int, ...]]:
    """Every tensor of the checkpoint, by its Mistral-native name."""
    h, heads = spec.hidden, spec.heads
    shapes: dict[str, tuple[int, ...]] = {
        "tok_embeddings.weight": (VOCAB_SIZE, h),
        "norm.weight": (h,),
        "output.weight": (VOCAB_SIZE, h),
    }
    for i in range(spec.layers):
        p = f"layers.{i}."
        shapes |= {
            p + "attention_norm.weight": (h,),
            p + "ffn_norm.weight": (h,),
            p + "attention.wq_a.weight": (spec.q_lora_rank, h),
            p + "attention.q_a_norm.weight": (spec.q_lora_rank,),
            p + "attention.wq_b.weight": (heads * (QK_NOPE_HEAD_DIM + QK_ROPE_HEAD_DIM), spec.q_lora_rank),
            p + "attention.wkv_a_with_mqa.weight": (spec.kv_lora_rank + QK_ROPE_HEAD_DIM, h),
            p + "attention.kv_a_norm.weight": (spec.kv_lora_rank,),
            p + "attention.wkv_b.weight": (heads * (QK_NOPE_HEAD_DIM + V_HEAD_DIM), spec.kv_lora_rank),
            p + "attention.wo.weight": (h, heads * V_HEAD_DIM),
            p + "gate.weight": (NUM_EXPERTS, h),
        }
        for expert in ["shared_experts", *(f"experts.{e}" for e in range(NUM_EXPERTS))]:
            shapes |= {
                f"{p}{expert}.w1.weight": (spec.expert_hidden, h),
                f"{p}{expert}.w2.weight": (h, spec.expert_hidden),
                f"{p}{expert}.w3.weight": (spec.expert_hidden, h),
            }
    return shapes


def tekken_v15() -> dict[str, Any]:
    """The Tekken file mistral_common ships, upgraded to v15: special tokens and model settings."""
    from mistral_common.tokens.tokenizers.base import SpecialTokens
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    source = MistralTokenizer._data_path() / "tekken_240911.json"
    data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    data["config"]["version"] = "v15"
    data["special_tokens"] = [
        {"rank": rank, "token_str": token.value, "is_control": True}
        for rank, token in enumerate(SpecialTokens)
    ]
    data["model_settings_builder"] = {
        "reasoning_effort": {
            "type": "enum",
            "accepts_none": True,
            "default": "none",
            "values": ["none", "high"],
        }
    }
    return data


def write_tiny_checkpoint(directory: Path, spec: TinySpec | None = None) -> Path:
    """Write params.json, consolidated.safetensors and tekken.json into `directory`."""
    import torch
    from safetensors.torch import save_file

    spec = spec or TinySpec()
    directory.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(spec.seed)
    tensors: dict[str, torch.Tensor] = {}
    for name, shape in tensor_shapes(spec).items():
        if name.endswith("norm.weight"):
            tensors[name] = torch.ones(shape, dtype=torch.bfloat16)
        else:
            values = torch.randn(shape, generator=generator) * (1.0 / shape[-1] ** 0.5)
            tensors[name] = values.to(torch.bfloat16)
    save_file(tensors, str(directory / "consolidated.safetensors"))
    (directory / "params.json").write_text(json.dumps(params_json(spec), indent=2) + "\n", encoding="utf-8")
    (directory / "tekken.json").write_text(json.dumps(tekken_v15()), encoding="utf-8")
    return directory


def bounded_strings(schema: Any, max_length: int = 16) -> Any:
    """A copy of a JSON schema with every string bounded: random weights wander inside a string
    until `max_tokens` cuts the JSON, so forced calls from a tiny model need short strings."""
    if isinstance(schema, list):
        return [bounded_strings(item, max_length) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: bounded_strings(value, max_length) for key, value in schema.items()}
    if out.get("type") == "string" and "enum" not in out:
        out["maxLength"] = min(int(out.get("maxLength", max_length)), max_length)
    return out

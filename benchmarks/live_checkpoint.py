"""The live model's GGUF as a Hugging Face checkpoint, for vLLM (`live_model start --server vllm`).

vLLM's CPU build does not load this GGUF, and transformers keeps GGUF weights quantized (it will not
save them). So: every tensor is dequantized with the `gguf` package (llama.cpp's own reader), renamed
from llama.cpp's names to transformers' Qwen2 names, and written as bf16 safetensors beside a
config.json built from the GGUF's metadata; the tokenizer (and its chat template, which carries the
Hermes `<tool_call>` format) comes from transformers' GGUF tokenizer conversion.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

FORMAT = 2  # bumped when the conversion's output changes: a checkpoint cached by an older one is redone

GLOBAL_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
LAYER_NAMES = {
    "attn_norm.weight": "input_layernorm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_q.bias": "self_attn.q_proj.bias",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_k.bias": "self_attn.k_proj.bias",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_v.bias": "self_attn.v_proj.bias",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}


# Qwen2.5-Coder-Instruct's published sampling defaults (its generation_config.json): the GGUF does not
# carry them, and vLLM takes a checkpoint's generation_config.json as its default sampling.
GENERATION_CONFIG = {
    "do_sample": True,
    "temperature": 0.7,
    "top_p": 0.8,
    "top_k": 20,
    "repetition_penalty": 1.05,
}


def hf_name(name: str) -> str:
    """transformers' name for a llama.cpp tensor name of a Qwen2 model (KeyError: not one)."""
    if name in GLOBAL_NAMES:
        return GLOBAL_NAMES[name]
    found = re.fullmatch(r"blk\.(\d+)\.(.+)", name)
    if found is None:
        raise KeyError(name)
    return f"model.layers.{found.group(1)}.{LAYER_NAMES[found.group(2)]}"


def qwen2_config(metadata: dict[str, Any], vocab: int, hidden: int, tied: bool) -> dict[str, Any]:
    """config.json for transformers' Qwen2ForCausalLM from the GGUF's `qwen2.*` metadata."""
    return {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "hidden_size": hidden,
        "vocab_size": vocab,
        "num_hidden_layers": int(metadata["qwen2.block_count"]),
        "intermediate_size": int(metadata["qwen2.feed_forward_length"]),
        "num_attention_heads": int(metadata["qwen2.attention.head_count"]),
        "num_key_value_heads": int(metadata["qwen2.attention.head_count_kv"]),
        "max_position_embeddings": int(metadata["qwen2.context_length"]),
        "rope_theta": float(metadata["qwen2.rope.freq_base"]),
        "rms_norm_eps": float(metadata["qwen2.attention.layer_norm_rms_epsilon"]),
        "tie_word_embeddings": tied,
        "torch_dtype": "bfloat16",
        "hidden_act": "silu",
        "bos_token_id": int(
            metadata.get("tokenizer.ggml.bos_token_id", metadata["tokenizer.ggml.eos_token_id"])
        ),
        "eos_token_id": int(metadata["tokenizer.ggml.eos_token_id"]),
        "use_sliding_window": False,
    }


def convert(gguf_file: Path, out: Path) -> None:
    """Write `out/` (config.json, model.safetensors, tokenizer files) from `gguf_file`."""
    import gguf
    import numpy as np
    import torch
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    reader = gguf.GGUFReader(str(gguf_file))
    # Scalars only: the tokenizer's arrays (151,936 tokens, merges) are left to transformers below.
    metadata = {
        key: field.contents() for key, field in reader.fields.items() if not key.startswith("tokenizer.ggml.")
    }
    for key in ("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"):
        if key in reader.fields:
            metadata[key] = reader.fields[key].contents()
    if metadata.get("general.architecture") != "qwen2":
        raise SystemExit(f"live-checkpoint: {gguf_file} is not a qwen2 model")
    tensors: dict[str, Any] = {}
    for tensor in reader.tensors:
        data = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
        shape = tuple(int(d) for d in reversed(tensor.shape))  # GGUF lists dimensions innermost first
        array = np.array(data.reshape(shape), dtype=np.float32)  # a writable copy, as torch wants
        tensors[hf_name(tensor.name)] = torch.from_numpy(array).to(torch.bfloat16)
    vocab, hidden = tensors["model.embed_tokens.weight"].shape
    config = qwen2_config(metadata, int(vocab), int(hidden), tied="lm_head.weight" not in tensors)
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "config.json").write_text(json.dumps(config, indent=1))
    generation = {
        **GENERATION_CONFIG,
        "bos_token_id": config["bos_token_id"],
        "eos_token_id": config["eos_token_id"],
    }
    (out / "generation_config.json").write_text(json.dumps(generation, indent=1))
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_file.parent), gguf_file=gguf_file.name)
    tokenizer.save_pretrained(str(out))

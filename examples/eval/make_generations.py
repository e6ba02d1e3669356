"""Write `--generations` files from the bundled set: its references, and references plus the
deliberately failing variants (wrong, slow, crash, syntax, memory) as further samples.

    python examples/eval/make_generations.py OUT_DIR
    trident eval --generations OUT_DIR/references.json --run references
    trident eval --generations OUT_DIR/references_and_variants.json --run variants
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "evals" / "data"


def main(out: Path) -> None:
    references = json.loads((DATA / "references.json").read_text(encoding="utf-8"))
    variants = json.loads((DATA / "variants.json").read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    plain = [{"question_id": q, "code_list": [code]} for q, code in sorted(references.items())]
    mixed = [
        {"question_id": q, "code_list": [code, *variants.get(q, {}).values()]} for q, code in sorted(references.items())
    ]
    (out / "references.json").write_text(json.dumps(plain, indent=1) + "\n", encoding="utf-8")
    (out / "references_and_variants.json").write_text(json.dumps(mixed, indent=1) + "\n", encoding="utf-8")
    print(f"{out}/references.json: {len(plain)} problems; references_and_variants.json: "
          f"{sum(len(e['code_list']) for e in mixed)} samples")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))

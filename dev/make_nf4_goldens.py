#!/usr/bin/env python3
"""Golden fixture for the Swift NF4 (QLoRA NormalFloat4) weight format.

Run from the repository root (needs `pip install bitsandbytes torch numpy`; the fixture was made with
bitsandbytes 0.50.2, whose CPU backend quantizes NF4 without a GPU):

    python3 dev/make_nf4_goldens.py     # writes Tests/QuantizationTests/Fixtures/nf4_goldens.json

The scheme (bitsandbytes `quantize_4bit(A, blocksize=64, quant_type="nf4", compress_statistics=True)`):
  * A is flattened row-major and cut into blocks of 64 values; absmax[b] = max |A| over block b.
  * Each value becomes the index of the nearest of the 16 NF4 levels after scaling by the float32
    reciprocal 1 / absmax[b] (clamped to [-1, 1]); a value exactly on a midpoint of two levels takes the
    lower one (torch.bucketize on the float32 midpoints). Two codes per byte, the even element in the
    high nibble.
  * Double quantization: offset = mean(absmax) (float32); absmax - offset is quantized blockwise to 8 bits
    in groups of 256 blocks: per group a float32 absmax2, and per block the index of the nearest entry of
    bitsandbytes' signed dynamic map (`create_dynamic_map()`, 256 values) after scaling by 1 / absmax2.
  * Decoding: scale[b] = map[q8[b]] * absmax2[b / 256] + offset; value = level[code] * scale[b]
    (float32 multiply, add, multiply).

Checks made here before anything is written (the script fails if one does not hold):
  * bitsandbytes' packed 4-bit codes and float32 absmax equal this script's numpy transcription of the
    scheme above, bit for bit;
  * decoding bitsandbytes' own state with the numpy decoder gives bitsandbytes' `dequantize_4bit`
    output bit for bit.
The 8-bit scale codes: bitsandbytes' native CPU library picks its dynamic-map entry with an approximate
search that, for a small fraction of values (about 0.1% of random inputs, mostly values close to the
midpoint of two entries or very close to zero, where entries are dense), returns the neighbouring entry
on the other side instead of the nearest one. The fixture therefore carries both bitsandbytes' codes
(`bnb_*`, used to test decoding) and the exact nearest-entry codes of the numpy transcription (`spec_*`,
used to test encoding); the script prints how many differ and checks that every difference is one entry
of the map, with the transcription's entry at least as near.
"""
import base64
import json
import os
import sys

import numpy as np
import torch
import bitsandbytes
import bitsandbytes.functional as F

f32 = np.float32
OUT = os.path.join("Tests", "QuantizationTests", "Fixtures", "nf4_goldens.json")


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()


def bucketize(x, code):
    """Index of the nearest code entry; ties (x on a float32 midpoint) go to the lower entry."""
    mids = ((code[:-1] + code[1:]) / f32(2)).astype(f32)
    return np.searchsorted(mids, x, side="left").astype(np.uint8)


def blockwise(v, code, block):
    """Per block absmax and codes of the nearest `code` entry of v * (1 / absmax)."""
    n = len(v)
    q = np.zeros(n, np.uint8)
    absmax = []
    for start in range(0, n, block):
        part = v[start:start + block]
        a = f32(np.abs(part).max())
        absmax.append(a)
        recip = f32(1) / max(a, f32(1e-38))
        scaled = np.clip((part * recip).astype(f32), f32(-1), f32(1))
        q[start:start + block] = bucketize(scaled, code)
    return q, np.array(absmax, f32)


def spec_quantize(w, levels, dmap):
    flat = w.reshape(-1).astype(f32)
    codes, absmax = blockwise(flat, levels, 64)
    packed = ((codes[0::2] << 4) | codes[1::2]).astype(np.uint8)
    offset = f32(np.mean(absmax.astype(np.float64)))
    q8, absmax2 = blockwise((absmax - offset).astype(f32), dmap, 256)
    return packed, absmax, offset, q8, absmax2


def spec_dequantize(packed, q8, absmax2, offset, levels, dmap):
    codes = np.empty(2 * len(packed), np.uint8)
    codes[0::2] = packed >> 4
    codes[1::2] = packed & 15
    groups = np.arange(len(q8)) // 256
    scales = ((dmap[q8] * absmax2[groups]).astype(f32) + offset).astype(f32)
    return (levels[codes] * np.repeat(scales, 64)).astype(f32)


def make_weights(rows, cols, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((rows, cols)).astype(f32) * rng.uniform(0.005, 0.2, (rows, 1)).astype(f32)
    w[rng.integers(0, rows, 6), rng.integers(0, cols, 6)] *= f32(12)      # outliers
    w[1, 64:128] = 0                                                      # an all-zero block
    w[2, :64] = rng.integers(-3, 4, 64).astype(f32) * f32(0.25)            # repeated values, exact levels
    return w.astype(f32)


def case(rows, cols, seed, levels, dmap):
    w = make_weights(rows, cols, seed)
    t = torch.from_numpy(w.copy())
    packed, state = F.quantize_4bit(t, blocksize=64, quant_type="nf4", compress_statistics=True)
    _, plain = F.quantize_4bit(t, blocksize=64, quant_type="nf4", compress_statistics=False)
    bnb_packed = packed.numpy().reshape(-1)
    bnb_absmax = plain.absmax.numpy()
    bnb_q8 = state.absmax.numpy().reshape(-1)
    bnb_absmax2 = state.state2.absmax.numpy()
    bnb_offset = f32(state.offset.item())
    bnb_decoded = F.dequantize_4bit(packed, state).numpy().reshape(-1)

    s_packed, s_absmax, s_offset, s_q8, s_absmax2 = spec_quantize(w, levels, dmap)
    assert np.array_equal(s_packed, bnb_packed), "4-bit codes differ from bitsandbytes"
    assert np.array_equal(s_absmax.view(np.uint32), bnb_absmax.view(np.uint32)), "block absmax differs"
    mine = spec_dequantize(bnb_packed, bnb_q8, bnb_absmax2, bnb_offset, levels, dmap)
    assert np.array_equal(mine.view(np.uint32), bnb_decoded.view(np.uint32)), "decoding differs from bitsandbytes"
    assert abs(s_offset - bnb_offset) <= 1e-6 * abs(bnb_offset), "offset differs beyond rounding"

    # Differences in the 8-bit codes must be the neighbouring entry, never nearer than the transcription's.
    v = ((bnb_absmax - bnb_offset) / np.repeat(bnb_absmax2, 256)[: len(bnb_absmax)]).astype(np.float64)
    diff = np.nonzero(s_q8 != bnb_q8)[0]
    for i in diff:
        d_spec, d_bnb = abs(v[i] - dmap[s_q8[i]]), abs(v[i] - dmap[bnb_q8[i]])
        assert abs(int(s_q8[i]) - int(bnb_q8[i])) == 1 and d_spec <= d_bnb, f"block {i}: not a neighbouring entry"
    print(f"[{rows}, {cols}]: {len(bnb_q8)} blocks, {len(diff)} scale codes are bitsandbytes' other neighbour")
    return {
        "rows": rows, "columns": cols,
        "weights_f32": b64(w),
        "packed": b64(bnb_packed),
        "absmax_f32": b64(bnb_absmax),
        "bnb_scale_codes": b64(bnb_q8), "bnb_group_scales_f32": b64(bnb_absmax2),
        "bnb_offset_f32": b64(np.array([bnb_offset], f32)), "bnb_decoded_f32": b64(bnb_decoded),
        "spec_scale_codes": b64(s_q8), "spec_group_scales_f32": b64(s_absmax2),
        "spec_offset_f32": b64(np.array([s_offset], f32)),
    }


def main():
    levels = F.get_4bit_type("nf4", device="cpu").numpy().astype(f32)
    dmap = F.create_dynamic_map().numpy().astype(f32)
    assert len(levels) == 16 and len(dmap) == 256 and np.all(np.diff(dmap) > 0)
    # 48 blocks (one scale group), and 260 blocks (a full group of 256 and a partial one).
    cases = [case(24, 128, 1, levels, dmap), case(20, 832, 2, levels, dmap)]
    fixture = {
        "source": f"bitsandbytes {bitsandbytes.__version__}, torch {torch.__version__}",
        "nf4_levels_f32": b64(levels),
        "dynamic_map_f32": b64(dmap),
        "cases": cases,
    }
    with open(OUT + ".tmp", "w") as f:
        json.dump(fixture, f, indent=1)
    os.replace(OUT + ".tmp", OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    sys.exit(main())

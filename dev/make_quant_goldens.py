#!/usr/bin/env python3
"""Golden fixtures for the Swift ggml block codecs and the GGUF writer.

Run from the repository root (needs `pip install gguf numpy`):

    python3 dev/make_quant_goldens.py                 # writes Tests/QuantizationTests/Fixtures/ggml_goldens.json,
                                                      #    Tests/IOTests/Fixtures/gguf_writer_golden.gguf and
                                                      #    Tests/IOTests/Fixtures/smollm2_tensor_reference.json
    python3 dev/make_quant_goldens.py --check-gguf FILE   # prints what gguf-py (and llama.cpp's parser) read from FILE

References:
  * Quantization (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, F16, BF16): `gguf.quants.quantize`, which reproduces
    llama.cpp's quantize_row_*_ref bit for bit.
  * Decoding of every type, including the K-quants Q4_K and Q6_K on random super-blocks:
    `gguf.quants.dequantize`.
  * Real data: rows and whole-tensor sums of SmolLM2-135M-Instruct.Q4_1.gguf tensors (the file holds
    Q8_0, Q4_1 and F32 tensors only), decoded by `gguf.quants.dequantize` (skipped with --no-model).
  * GGUF writing: a small file written by gguf-py's GGUFWriter from the same inputs, which the Swift
    writer must reproduce byte for byte.

Cross-check (optional, automatic when found): llama.cpp's own libggml-base.so (built by
bench/build_llamacpp.sh, or --ggml-lib PATH). Its quantize_row_*_ref must give the same bytes and
its dequantize_row_* the same floats as gguf-py, and its GGUF parser (gguf_init_from_file) must
accept the writer golden. The script fails if any of them disagrees.
"""
import argparse
import base64
import ctypes
import hashlib
import json
import os
import sys

import warnings

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import quantize, dequantize

warnings.filterwarnings("ignore", category=RuntimeWarning)  # half-float overflow in the edge-case blocks is intended
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUANT_FIXTURE = os.path.join(ROOT, "Tests/QuantizationTests/Fixtures/ggml_goldens.json")
WRITER_FIXTURE = os.path.join(ROOT, "Tests/IOTests/Fixtures/gguf_writer_golden.gguf")
SMOLLM2_FIXTURE = os.path.join(ROOT, "Tests/IOTests/Fixtures/smollm2_tensor_reference.json")
MODEL = os.path.join(ROOT, ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
GGML_LIB = os.path.join(ROOT, "bench/.work/llama.cpp-build/bin/libggml-base.so")


def b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()


def quant_inputs(rng: np.random.Generator, blocks: int) -> np.ndarray:
    """Blocks of 32 floats covering the quantizers' edge cases, then random blocks of varied scale."""
    special = [
        np.zeros(32),                                           # all zero: d = 0, id = 0
        np.linspace(-127, 127, 32),                              # absmax 127: Q8_0 d = 1
        np.array([0.5, -0.5, 1.5, -1.5, 2.5, -2.5] + [0.0] * 25 + [127.0]),  # exact halves (ties)
        np.array([3.0, -3.0] + [1.0] * 30),                      # |max| tie: first one wins (Q4_0/Q5_0)
        np.array([-3.0, 3.0] + [1.0] * 30),
        np.full(32, 0.25),                                       # constant block (Q4_1: d = 0)
        rng.normal(size=32) * 1e5,                               # d overflows half precision
        rng.normal(size=32) * 1e-6,                              # d is a half subnormal
        np.array([-8.0 + i * 0.5 for i in range(32)]),           # Q4_0 with d = 1: x + 8.5 exact halves
        np.array([0.0, 15.0] + [i * 0.5 for i in range(30)]),    # Q4_1 with d = 1: (x - min) / d + 0.5 exact
        np.array([0.0, 31.0] + [i + 0.5 for i in range(30)]),    # Q5_1 with d = 1
    ]
    rows = list(special)
    while len(rows) < blocks:
        rows.append(rng.normal(size=32) * 10.0 ** rng.uniform(-3, 2) + rng.normal() * 0.1)
    return np.concatenate(rows).astype(np.float32)


def random_blocks(rng: np.random.Generator, qtype: T, n_blocks: int) -> np.ndarray:
    """Random encoded blocks whose half-float fields hold finite, model-like scales."""
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)

    def put_half(col: int, values: np.ndarray) -> None:
        raw[:, col:col + 2] = values.astype(np.float16).view(np.uint8).reshape(n_blocks, 2)

    scales = np.abs(rng.normal(size=n_blocks)) * 0.01 + 1e-4
    if qtype in (T.Q4_0, T.Q8_0, T.Q5_0):
        put_half(0, scales * np.where(rng.random(n_blocks) < 0.5, -1, 1))
    elif qtype in (T.Q4_1, T.Q5_1):
        put_half(0, scales)
        put_half(2, rng.normal(size=n_blocks) * 0.05)
    elif qtype == T.Q4_K:
        put_half(0, scales * 0.1)
        put_half(2, scales * 0.05)
    elif qtype == T.Q6_K:
        put_half(208, scales * 0.1)
    return raw.reshape(-1)


def special_halves() -> np.ndarray:
    bits = [0x0000, 0x8000, 0x0001, 0x83FF, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00,
            0x3555, 0x1234, 0xABCD]
    return np.array(bits, dtype=np.uint16)


def ggml_lib(path: str):
    if not os.path.exists(path):
        return None
    lib = ctypes.CDLL(path)
    for name in ["quantize_row_q4_0_ref", "quantize_row_q4_1_ref", "quantize_row_q5_0_ref", "quantize_row_q5_1_ref",
                 "quantize_row_q8_0_ref", "dequantize_row_q4_0", "dequantize_row_q4_1", "dequantize_row_q5_0",
                 "dequantize_row_q5_1", "dequantize_row_q8_0", "dequantize_row_q4_K", "dequantize_row_q6_K"]:
        fn = getattr(lib, name)
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        fn.restype = None
    return lib


LIB_NAMES = {T.Q4_0: "q4_0", T.Q4_1: "q4_1", T.Q5_0: "q5_0", T.Q5_1: "q5_1", T.Q8_0: "q8_0", T.Q4_K: "q4_K", T.Q6_K: "q6_K"}


def lib_quantize(lib, qtype: T, x: np.ndarray) -> np.ndarray:
    out = np.zeros(quantize(x, qtype).nbytes, dtype=np.uint8)
    getattr(lib, f"quantize_row_{LIB_NAMES[qtype]}_ref")(x.ctypes.data, out.ctypes.data, x.size)
    return out


def lib_dequantize(lib, qtype: T, raw: np.ndarray, count: int) -> np.ndarray:
    out = np.zeros(count, dtype=np.float32)
    getattr(lib, f"dequantize_row_{LIB_NAMES[qtype]}")(raw.ctypes.data, out.ctypes.data, count)
    return out


def same_floats(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-identical, treating any two NaNs as equal."""
    nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(nan | (a.view(np.uint32) == b.view(np.uint32))))


def make_goldens(args) -> None:
    rng = np.random.default_rng(20241124)
    lib = ggml_lib(args.ggml_lib)
    notes = []
    doc = {"generator": f"dev/make_quant_goldens.py with gguf {gguf.__version__ if hasattr(gguf, '__version__') else ''} "
                        f"numpy {np.__version__}", "quantize": [], "dequantize": []}
    x = quant_inputs(rng, 24)
    for qtype in [T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.F16, T.BF16]:
        with np.errstate(over="ignore"):
            q = np.asarray(quantize(x, qtype)).view(np.uint8).reshape(-1)
        if lib is not None and qtype in LIB_NAMES:
            ref = lib_quantize(lib, qtype, x)
            if not np.array_equal(ref, q):
                sys.exit(f"llama.cpp quantize_row_{LIB_NAMES[qtype]}_ref disagrees with gguf-py")
            notes.append(f"{qtype.name} quantization identical to llama.cpp quantize_row_*_ref")
        doc["quantize"].append({"type": qtype.name, "input_f32": b64(x), "output": b64(q)})

    for qtype, n_blocks in [(T.Q8_0, 16), (T.Q4_0, 16), (T.Q4_1, 16), (T.Q5_0, 16), (T.Q5_1, 16), (T.Q4_K, 6), (T.Q6_K, 6)]:
        raw = random_blocks(rng, qtype, n_blocks)
        count = n_blocks * gguf.GGML_QUANT_SIZES[qtype][0]
        y = dequantize(raw, qtype).reshape(-1).astype(np.float32)
        if lib is not None:
            ref = lib_dequantize(lib, qtype, raw, count)
            if not same_floats(ref, y):
                diff = np.max(np.abs(ref - y))
                notes.append(f"{qtype.name}: llama.cpp dequantize_row differs from gguf-py by up to {diff:.3g} (FMA contraction)")
            else:
                notes.append(f"{qtype.name} decoding identical to llama.cpp dequantize_row_*")
        doc["dequantize"].append({"type": qtype.name, "count": count, "input": b64(raw), "output_f32": b64(y)})
    if lib is not None and not args.no_model and os.path.exists(args.model):
        # K-quant blocks of real weights: SmolLM2 holds no K-quant tensor, so two rows of
        # blk.0.ffn_down.weight (decoded from Q4_1) are encoded by llama.cpp's quantize_row_q4_K_ref /
        # quantize_row_q6_K_ref and decoded by gguf-py.
        reader = gguf.GGUFReader(args.model)
        t = next(t for t in reader.tensors if t.name == "blk.0.ffn_down.weight")
        real = np.ascontiguousarray(dequantize(t.data, t.tensor_type)[:2].reshape(-1).astype(np.float32))
        for qtype, fn in [(T.Q4_K, "quantize_row_q4_K_ref"), (T.Q6_K, "quantize_row_q6_K_ref")]:
            f = getattr(lib, fn)
            f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
            block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
            raw = np.zeros(real.size // block_size * type_size, dtype=np.uint8)
            f(real.ctypes.data, raw.ctypes.data, real.size)
            y = dequantize(raw, qtype).reshape(-1).astype(np.float32)
            if not same_floats(lib_dequantize(lib, qtype, raw, real.size), y):
                sys.exit(f"llama.cpp and gguf-py decode real {qtype.name} blocks differently")
            doc["dequantize"].append({"type": qtype.name, "count": int(real.size), "input": b64(raw), "output_f32": b64(y),
                                      "source": "SmolLM2 blk.0.ffn_down.weight rows 0-1 encoded by llama.cpp"})
            notes.append(f"{qtype.name}: real SmolLM2 weights encoded by llama.cpp, decoded identically by gguf-py and llama.cpp")
    halves = np.concatenate([special_halves(), rng.integers(0, 65536, size=49, dtype=np.uint16)])
    doc["dequantize"].append({"type": "F16", "count": int(halves.size), "input": b64(halves),
                              "output_f32": b64(dequantize(halves.view(np.uint8), T.F16).astype(np.float32))})
    bf = rng.integers(0, 65536, size=64, dtype=np.uint16)
    doc["dequantize"].append({"type": "BF16", "count": 64, "input": b64(bf),
                              "output_f32": b64(dequantize(bf.view(np.uint8), T.BF16).astype(np.float32))})

    doc["cross_checks"] = notes
    os.makedirs(os.path.dirname(QUANT_FIXTURE), exist_ok=True)
    with open(QUANT_FIXTURE, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"wrote {QUANT_FIXTURE} ({os.path.getsize(QUANT_FIXTURE)} bytes)")

    if not args.no_model and os.path.exists(args.model):
        with open(SMOLLM2_FIXTURE, "w") as f:
            json.dump(smollm2_reference(args.model), f, indent=1)
        print(f"wrote {SMOLLM2_FIXTURE} ({os.path.getsize(SMOLLM2_FIXTURE)} bytes)")
    else:
        print("SmolLM2 reference skipped (model not found)")
    make_writer_golden()
    if lib is not None:
        info = llama_cpp_gguf_summary(args.ggml_lib, WRITER_FIXTURE)
        if info is None:
            sys.exit("llama.cpp's gguf_init_from_file rejected the writer golden")
        notes.append(f"writer golden accepted by llama.cpp gguf_init_from_file: {info}")
    for n in notes:
        print("  " + n)


def smollm2_reference(path: str) -> dict:
    reader = gguf.GGUFReader(path)
    by_name = {t.name: t for t in reader.tensors}
    rows = []
    for name, picks in [("blk.0.ffn_down.weight", [0, 1, 287, 575]), ("token_embd.weight", [0, 1, 12345, 49151]),
                        ("blk.29.attn_k.weight", [0, 191])]:
        t = by_name[name]
        values = dequantize(t.data, t.tensor_type)
        rows.append({"tensor": name, "type": t.tensor_type.name, "rows": picks, "row_length": int(values.shape[-1]),
                     "output_f32": b64(values[picks].astype(np.float32))})
    sums = []
    for t in reader.tensors:
        if not (t.name.startswith("blk.0.") or t.name.startswith("blk.29.") or t.name == "output_norm.weight"):
            continue
        v = dequantize(t.data, t.tensor_type).astype(np.float64)
        sums.append({"tensor": t.name, "type": t.tensor_type.name, "count": int(v.size),
                     "sum": float(v.sum()), "sum_squares": float((v * v).sum())})
    return {"file": os.path.basename(path), "rows": rows, "sums": sums}


def writer_inputs():
    """The inputs of the writer golden, reproduced exactly by the Swift test."""
    n = 64 * 2
    ramp = np.array([((i * 37) % 101 - 50) / 16.0 for i in range(n)], dtype=np.float32)
    return ramp


def make_writer_golden() -> None:
    ramp = writer_inputs()
    w = gguf.GGUFWriter(WRITER_FIXTURE + ".tmp", "llama")   # adds general.architecture first
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -2000000000)
    w.add_float32("t.f32", 0.15625)
    w.add_bool("t.bool", True)
    w.add_string("t.string", "ünïcødé ✓")
    w.add_uint64("t.u64", 2**64 - 1)
    w.add_int64("t.i64", -9000000000000)
    w.add_float64("t.f64", 1e-300)
    w.add_array("t.strings", ["a", "", "Ġhello"])
    w.add_array("t.ints", [1, -2, 3])          # gguf-py stores Python ints as INT32
    w.add_array("t.floats", [0.5, -1.5])       # and floats as FLOAT32
    w.add_uint32("general.quantization_version", 2)
    m = ramp.reshape(2, 64)                    # PyTorch shape [2, 64]: GGUF dims [64, 2]
    w.add_tensor("w.f32", m)
    w.add_tensor("w.f16", m.astype(np.float16))
    for name, qtype in [("w.q8_0", T.Q8_0), ("w.q4_0", T.Q4_0), ("w.q4_1", T.Q4_1)]:
        w.add_tensor(name, quantize(m, qtype), raw_dtype=qtype)
    w.add_tensor("v.f32", ramp[:5].copy())     # 1-D, 20 bytes: followed by padding
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.makedirs(os.path.dirname(WRITER_FIXTURE), exist_ok=True)
    os.replace(WRITER_FIXTURE + ".tmp", WRITER_FIXTURE)
    print(f"wrote {WRITER_FIXTURE} ({os.path.getsize(WRITER_FIXTURE)} bytes)")


class GGUFInitParams(ctypes.Structure):
    _fields_ = [("no_alloc", ctypes.c_bool), ("ctx", ctypes.c_void_p)]


def llama_cpp_gguf_summary(lib_path: str, path: str):
    """What llama.cpp's GGUF parser reads from `path` (None when it rejects the file)."""
    lib = ctypes.CDLL(lib_path)
    lib.gguf_init_from_file.argtypes = [ctypes.c_char_p, GGUFInitParams]
    lib.gguf_init_from_file.restype = ctypes.c_void_p
    for name, res in [("gguf_get_n_kv", ctypes.c_int64), ("gguf_get_n_tensors", ctypes.c_int64),
                      ("gguf_get_alignment", ctypes.c_size_t), ("gguf_get_data_offset", ctypes.c_size_t)]:
        getattr(lib, name).argtypes = [ctypes.c_void_p]
        getattr(lib, name).restype = res
    lib.gguf_get_tensor_offset.argtypes = [ctypes.c_void_p, ctypes.c_int64]
    lib.gguf_get_tensor_offset.restype = ctypes.c_size_t
    lib.gguf_get_tensor_name.argtypes = [ctypes.c_void_p, ctypes.c_int64]
    lib.gguf_get_tensor_name.restype = ctypes.c_char_p
    lib.gguf_get_tensor_type.argtypes = [ctypes.c_void_p, ctypes.c_int64]
    lib.gguf_get_tensor_type.restype = ctypes.c_int
    lib.gguf_free.argtypes = [ctypes.c_void_p]
    ctx = lib.gguf_init_from_file(path.encode(), GGUFInitParams(True, None))
    if not ctx:
        return None
    n = lib.gguf_get_n_tensors(ctx)
    out = {"n_kv": lib.gguf_get_n_kv(ctx), "n_tensors": n, "alignment": lib.gguf_get_alignment(ctx),
           "data_offset": lib.gguf_get_data_offset(ctx),
           "tensors": [[lib.gguf_get_tensor_name(ctx, i).decode(), lib.gguf_get_tensor_type(ctx, i),
                        lib.gguf_get_tensor_offset(ctx, i)] for i in range(n)]}
    lib.gguf_free(ctx)
    return out


def check_gguf(path: str, lib_path: str) -> None:
    """Prints JSON describing `path` as gguf-py's GGUFReader (and llama.cpp, when found) read it."""
    reader = gguf.GGUFReader(path)
    kv = {}
    for field in reader.fields.values():
        if field.name.startswith("GGUF."):
            continue
        kv[field.name] = field.contents()
    tensors = []
    for t in reader.tensors:
        tensors.append({"name": t.name, "type": t.tensor_type.name, "dims": [int(d) for d in t.shape],
                        "offset": int(t.data_offset), "sha256": hashlib.sha256(np.asarray(t.data).tobytes()).hexdigest(),
                        "values": [float(v) for v in np.asarray(dequantize(t.data, t.tensor_type)).reshape(-1)[:8]]})
    out = {"kv": kv, "tensors": tensors, "alignment": reader.alignment,
           "llama_cpp": llama_cpp_gguf_summary(lib_path, path) if os.path.exists(lib_path) else "not available"}
    print(json.dumps(out, default=str))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=MODEL)
    p.add_argument("--no-model", action="store_true")
    p.add_argument("--ggml-lib", default=GGML_LIB)
    p.add_argument("--check-gguf", metavar="FILE")
    args = p.parse_args()
    if args.check_gguf:
        check_gguf(args.check_gguf, args.ggml_lib)
    else:
        make_goldens(args)


if __name__ == "__main__":
    main()

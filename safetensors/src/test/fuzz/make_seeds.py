#!/usr/bin/env python3
"""Writes the seed corpus of HeaderFuzzTest: valid headers (marker byte 1 = 'header only, length
fixed up') and a few raw files (marker 0). Run from the repository root; the output is committed."""
import os, struct

OUT = "safetensors/src/test/resources/dev/safeload/safetensors/HeaderFuzzTestInputs/headerReader"
os.makedirs(OUT, exist_ok=True)

headers = {
    "i32": '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}',
    "meta": '{"__metadata__":{"format":"pt","a":"\\u00e9\\n"},"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}}',
    "two": '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[0,5],"data_offsets":[4,4]},'
           '"c":{"dtype":"U8","shape":[3],"data_offsets":[4,7]}}',
    "subbyte": '{"f4":{"dtype":"F4","shape":[4],"data_offsets":[0,2]},"f6":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[2,5]}}',
    "extra": '{"t":{"dtype":"F8_E4M3","shape":[],"data_offsets":[0,1],"x":[1,-0,1.5e3,{"k":null,"b":true}]}}',
    "scalar": '  {"s":{"dtype":"C64","shape":[],"data_offsets":[0,8]}}  ',
    "empty": '{}',
}
for name, h in headers.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(b"\x01" + h.encode("utf-8"))

raw = {
    "raw_short": b"\x00" + struct.pack("<Q", 60),
    "raw_valid": b"\x00" + struct.pack("<Q", 2) + b"{}",
}
for name, b in raw.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(b)

#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Copy the BTF out of a kernel image that has no ELF sections.

Usage: kernel-btf.py IMAGE OUTPUT

Debian's arm64 vmlinuz is a raw, uncompressed arm64 boot Image (an EFI
stub, no ELF headers, so no .BTF section to dump), and the -dbg package
with the ELF vmlinux is hundreds of MB.  The kernel's BTF blob sits in the
Image as is (between __start_BTF and __stop_BTF): find the BTF header
(magic 0xeB9F, version 1, 24-byte header), take header + type + string
sections, and check that it parses as a whole (types are laid out before
strings, the string section starts with a NUL).  `bpftool btf dump file
OUTPUT format c` then gives the arm64 vmlinux.h.  A gzip'd Image is
unpacked first.
"""
import gzip
import struct
import sys


def find_btf(img: bytes) -> bytes:
    pos = 0
    while True:
        i = img.find(b"\x9f\xeb\x01", pos)
        if i < 0:
            raise SystemExit("kernel-btf: no BTF header in the image "
                             "(kernel built without CONFIG_DEBUG_INFO_BTF?)")
        pos = i + 1
        if len(img) < i + 24:
            continue
        _, _, flags, hdr_len, toff, tlen, soff, slen = struct.unpack_from(
            "<HBBIIIII", img, i)
        if hdr_len != 24 or flags != 0 or toff != 0 or soff != tlen:
            continue
        end = i + hdr_len + soff + slen
        # the vmlinux BTF is megabytes; a stray match is not
        if tlen < 1 << 20 or slen < 1 << 16 or end > len(img):
            continue
        if img[i + hdr_len + soff] != 0:
            continue
        return img[i:end]


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    img = open(sys.argv[1], "rb").read()
    if img[:2] == b"\x1f\x8b":
        img = gzip.decompress(img)
    btf = find_btf(img)
    with open(sys.argv[2], "wb") as f:
        f.write(btf)
    sys.stderr.write(f"kernel-btf: {len(btf)} bytes of BTF -> {sys.argv[2]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

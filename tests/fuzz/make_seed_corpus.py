#!/usr/bin/env python3
"""Writes the seed corpus for nbd_fuzz: a valid handshake then requests."""
import os
import struct

OUT = os.path.join(os.path.dirname(__file__), "corpus", "nbd")
IHAVEOPT = 0x49484156454F5054


def opt(code, data=b""):
    return struct.pack(">QII", IHAVEOPT, code, len(data)) + data


def go(name, infos):
    return struct.pack(">I", len(name)) + name + struct.pack(">H", len(infos)) + b"".join(
        struct.pack(">H", i) for i in infos)


def req(cmd, offset, length, flags=0, cookie=1):
    return struct.pack(">IHHQQI", 0x25609513, flags, cmd, cookie, offset, length)


def seed(name, handshake, requests):
    handshake += b"\0" * (-len(handshake) % 4)  # the split is counted in 4-byte units
    assert len(handshake) // 4 < 256
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([len(handshake) // 4]) + handshake + requests)


os.makedirs(OUT, exist_ok=True)
flags = struct.pack(">I", 3)
seed("go_block_sizes", flags + opt(7, go(b"disk", [3])),
     req(0, 0, 512) + req(1, 512, 512, 1) + req(3, 0, 0) + req(4, 0, 4096) + req(6, 0, 512, 2))
seed("structured_df", flags + opt(8) + opt(7, go(b"disk", [])), req(0, 1, 3, 4) + req(2, 0, 0))
seed("export_name", flags + opt(1, b"disk"), req(1, (1 << 20) - 512, 1024) + req(9, 0, 0))
seed("list_info_abort", flags + opt(3) + opt(6, go(b"", [3])) + opt(2), b"")
seed("bad_lengths", flags + opt(7, b"\x00\x00\x00\xff") + opt(3, b"zz"), req(0, 2**63, 2**31))

# repl_fuzz: the first byte is the chunk size - 1 the rest is fed in.
REPL_OUT = os.path.join(os.path.dirname(__file__), "corpus", "repl")
REPL_MAGIC = 0x56435231


def frame(kind, payload=b"", flags=0, seq=1):
    return struct.pack(">IHHQI", REPL_MAGIC, kind, flags, seq, len(payload)) + payload


def hello(name=b"vm1-disk0"):
    return frame(1, struct.pack(">H", len(name)) + name +
                 struct.pack(">QIBB4QI", 1 << 20, 65536, 1, 1, 9, 8, 7, 6, 1))


os.makedirs(REPL_OUT, exist_ok=True)
repl_seeds = {
    "hello_write_ack": hello() + frame(2, struct.pack(">Q", 4096) + b"a" * 1024, 1, 2) +
    frame(3, struct.pack(">I", 0), 0, 2),
    "flush_trim_zeroes": frame(4, seq=3) + frame(5, struct.pack(">I", 0), 0, 3) +
    frame(6, struct.pack(">QQ", 0, 65536)) + frame(7, struct.pack(">QQ", 512, 512)),
    "bitmap_resync": frame(8, struct.pack(">Q", 0) + b"\x01" + b"\0" * 7) +
    frame(9, struct.pack(">Q", 65536) + b"r" * 4096) + frame(10, struct.pack(">I", 0)),
    "ping_goodbye": frame(11) + frame(12) + frame(13, b"split brain"),
    "bad_length": frame(2, b"\0" * 3),
    "verify": frame(14, struct.pack(">QQ", 65536, 65536), seq=4) +
    frame(15, struct.pack(">QQQ", 65536, 65536, 0x0123456789abcdef), seq=4),
    "hello_update": hello() + frame(1, struct.pack(">H", 9) + b"VM1-disk0" +
                                    struct.pack(">QIBB4QI", 1 << 20, 65536, 0, 1, 9, 8, 7, 6, 1),
                                    2, 0),
    "hello_recovering": frame(1, hello()[20:], 4, 0),
}
for repl_name, repl_bytes in repl_seeds.items():
    for chunk in (0, 6, 255):
        with open(os.path.join(REPL_OUT, f"{repl_name}_{chunk}"), "wb") as f:
            f.write(bytes([chunk]) + repl_bytes)

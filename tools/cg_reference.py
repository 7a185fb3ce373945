#!/usr/bin/env python3
"""Reference model of cachegrind's cache simulation, driven by a lackey trace.

Independent of mmusim: it exists to prove that the recorded lackey traces and
cachegrind's counts in tests/data/cachegrind/ agree, so that mmusim can be held
to them exactly.

    tools/cg_reference.py [--I1=S,A,L] [--D1=S,A,L] [--LL=S,A,L] [--csv] TRACE

TRACE is the output of `valgrind --tool=lackey --trace-mem=yes` (plain, xz, gzip
or zstd; detected from the magic bytes; "-" is standard input). Prints
`Ir=.. I1mr=.. ILmr=.. Dr=.. D1mr=.. DLmr=.. Dw=.. D1mw=.. DLmw=..`, one per line,
or with --csv the flat `name,value` lines mmusim writes (for testing the e2e
script without mmusim).

The model (cachegrind/cg_sim.c and cg_main.c of valgrind 3.19, read, not copied):
  * three caches, I1, D1 and LL; each set is a list of tags, most recent first;
    true LRU; the tag is the whole line number; write-allocate; no dirty state.
  * an access covering two lines looks up both (both update LRU) and counts one
    access, a miss if either line missed.
  * LL is looked up only when L1 missed, with the same address and size (so
    both lines of a straddling access, even if only one missed in L1).
  * I: one instruction fetch of the instruction's length.
    L: a data read.  S: a data write.
    M (a load and store of the same address and size by one instruction,
      merged): ONE data read; it is not counted as a write.
  * data sizes above the smallest line size of the three caches are cut to it
    (cachegrind does this for dirty helpers such as fxsave/xsave; lackey prints
    the full size).
"""
import argparse
import gzip
import lzma
import subprocess
import sys


class Cache:
    def __init__(self, name, size, assoc, line):
        if line & (line - 1) or size % (assoc * line):
            sys.exit(f"{name}: bad geometry {size},{assoc},{line}")
        nsets = size // (assoc * line)
        if nsets & (nsets - 1):
            sys.exit(f"{name}: set count {nsets} is not a power of two")
        self.assoc = assoc
        self.shift = line.bit_length() - 1
        self.mask = nsets - 1
        self.sets = [[] for _ in range(nsets)]

    def _ref(self, block):
        """Look up one line; True on a miss. The line becomes most recent."""
        s = self.sets[block & self.mask]
        if s and s[0] == block:
            return False
        try:
            s.remove(block)
            hit = True
        except ValueError:
            hit = False
            if len(s) == self.assoc:
                s.pop()
        s.insert(0, block)
        return not hit

    def access(self, addr, size):
        """One access of size bytes at addr; True on a miss (either line)."""
        b1 = addr >> self.shift
        b2 = (addr + size - 1) >> self.shift
        if b1 == b2:
            return self._ref(b1)
        if b2 != b1 + 1:
            sys.exit(f"access {addr:#x},{size} covers more than two lines")
        m1 = self._ref(b1)
        m2 = self._ref(b2)
        return m1 or m2


def geometry(text):
    parts = text.split(",")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("expected SIZE,ASSOC,LINE")
    return tuple(int(p) for p in parts)


def open_trace(path):
    raw = sys.stdin.buffer if path == "-" else open(path, "rb")
    head = raw.peek(6)[:6] if hasattr(raw, "peek") else b""
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.open(raw, "rt", encoding="ascii")
    if head.startswith(b"\x1f\x8b"):
        return gzip.open(raw, "rt", encoding="ascii")
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        p = subprocess.Popen(["zstd", "-dc"], stdin=raw, stdout=subprocess.PIPE)
        return (line.decode("ascii") for line in p.stdout)
    return (line.decode("ascii") for line in raw)


def simulate(lines, i1g, d1g, llg, clamp=None):
    I1 = Cache("I1", *i1g)
    D1 = Cache("D1", *d1g)
    LL = Cache("LL", *llg)
    if clamp is None:
        clamp = min(i1g[2], d1g[2], llg[2])
    c = dict.fromkeys(("Ir", "I1mr", "ILmr", "Dr", "D1mr", "DLmr",
                       "Dw", "D1mw", "DLmw"), 0)
    for n, line in enumerate(lines, 1):
        if line.startswith("=="):
            continue
        kind = line[:2]
        try:
            a, s = line[3:].split(",")
            addr, size = int(a, 16), int(s)
        except ValueError:
            sys.exit(f"line {n}: not a lackey record: {line!r}")
        if kind == "I ":
            c["Ir"] += 1
            if I1.access(addr, size):
                c["I1mr"] += 1
                if LL.access(addr, size):
                    c["ILmr"] += 1
            continue
        size = min(size, clamp)
        if kind in (" L", " M"):
            acc, m1, mL = "Dr", "D1mr", "DLmr"
        elif kind == " S":
            acc, m1, mL = "Dw", "D1mw", "DLmw"
        else:
            sys.exit(f"line {n}: unknown record kind {kind!r}")
        c[acc] += 1
        if D1.access(addr, size):
            c[m1] += 1
            if LL.access(addr, size):
                c[mL] += 1
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--I1", type=geometry, default=(32768, 8, 64))
    ap.add_argument("--D1", type=geometry, default=(32768, 8, 64))
    ap.add_argument("--LL", type=geometry, default=(8388608, 16, 64))
    ap.add_argument("--csv", action="store_true",
                    help="print mmusim's flat CSV names instead")
    ap.add_argument("--clamp", type=int, default=None, metavar="N",
                    help="cut data sizes to N bytes instead of the smallest line "
                         "size (0: never; only to show that the rule matters)")
    ap.add_argument("trace")
    args = ap.parse_args()
    clamp = None if args.clamp is None else (args.clamp or 1 << 62)
    c = simulate(open_trace(args.trace), args.I1, args.D1, args.LL, clamp)
    if args.csv:
        names = [("cache.l1i.accesses", "Ir"), ("cache.l1i.misses", "I1mr"),
                 ("cache.l1d.reads", "Dr"), ("cache.l1d.read_misses", "D1mr"),
                 ("cache.l1d.writes", "Dw"), ("cache.l1d.write_misses", "D1mw"),
                 ("cache.llc.ifetch_misses", "ILmr"),
                 ("cache.llc.read_misses", "DLmr"),
                 ("cache.llc.write_misses", "DLmw")]
        print("name,value")
        for name, key in names:
            print(f"{name},{c[key]}")
    else:
        for k, v in c.items():
            print(f"{k}={v}")


if __name__ == "__main__":
    main()

"""The supervised program of the log benchmarks (run by the daemons under
test, not by the harness).

    writer.py flood BLOCK SECONDS RESULT GO
        Waits until the file GO exists, then writes BLOCK-byte chunks to
        stdout as fast as the pipe takes them for SECONDS, then writes
        "<bytes> <seconds> <own CPU seconds>" to RESULT and exits 0. The pipe holds at most
        a few blocks, so bytes/seconds is the rate the daemon drained it.

    writer.py exact SIZE
        Writes the first SIZE bytes of pattern() to stdout in chunks of
        irregular sizes (so reads and rotations fall anywhere), then exits 0.
"""

import os
import sys
import time


def pattern(size):
    """Numbered lines: any lost, repeated or reordered byte shows."""
    out = bytearray()
    i = 0
    while len(out) < size:
        out += b"%011d\n" % i
        i += 1
    return bytes(out[:size])


def chunk_sizes(total):
    """Deterministic irregular chunk sizes from 1 byte to 64 KiB."""
    x = 12345
    left = total
    while left > 0:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        n = min(left, 1 + x % 65536)
        yield n
        left -= n


def write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def flood(block, seconds, result, go):
    while not os.path.exists(go):
        time.sleep(0.01)
    line = b"flood " + b"x" * 57 + b"\n"
    data = (line * (block // len(line) + 1))[:block]
    write = os.write
    total = 0
    n = 0
    cpu = time.process_time()
    start = time.monotonic()
    end = start + seconds
    while True:
        # A blocking pipe write of any size completes in full.
        total += write(1, data)
        n += 1
        if n % 64 == 0 and time.monotonic() >= end:
            break
    elapsed = time.monotonic() - start
    cpu = time.process_time() - cpu
    tmp = result + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %.6f %.6f\n" % (total, elapsed, cpu))
    os.rename(tmp, result)


def exact(size):
    data = pattern(size)
    pos = 0
    for n in chunk_sizes(size):
        write_all(1, data[pos:pos + n])
        pos += n


def main(argv):
    if len(argv) == 6 and argv[1] == "flood":
        flood(int(argv[2]), float(argv[3]), argv[4], argv[5])
    elif len(argv) == 3 and argv[1] == "exact":
        exact(int(argv[2]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Drops a file's pages from the page cache: fsync, then posix_fadvise(POSIX_FADV_DONTNEED).
Prints how much of the file is still cached when fincore (util-linux) is available.
Usage: python3 drop_cache.py PATH"""
import os
import shutil
import subprocess
import sys

fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
finally:
    os.close(fd)
if shutil.which("fincore"):
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", sys.argv[1]],
                         capture_output=True, text=True)
    print(f"still cached after drop: {out.stdout.strip() or out.stderr.strip()} bytes")

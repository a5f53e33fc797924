#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Prints the DT_SONAME of the first ELF shared library given that exists (symlinks followed).

meson runs it at configure time on the libcurl.so that pkg-config points at, so that notifyd
dlopen()s exactly the library the build's headers belong to (libcurl.so.4 for Debian's
libcurl4-openssl-dev, libcurl-gnutls.so.4 for libcurl4-gnutls-dev). Only the standard library:
the build needs no binutils for it. Exits 1 with a message when no argument is a readable ELF
library with a SONAME.
"""
import struct
import sys

SHT_DYNAMIC = 6
DT_NULL, DT_SONAME = 0, 14


def soname(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF':
        raise ValueError('not an ELF file')
    is64 = data[4] == 2
    end = '<' if data[5] == 1 else '>'
    if is64:
        shoff, = struct.unpack_from(end + 'Q', data, 0x28)
        shentsize, shnum = struct.unpack_from(end + 'HH', data, 0x3a)
        shdr, dyn = end + 'IIQQQQIIQQ', end + 'qQ'
    else:
        shoff, = struct.unpack_from(end + 'I', data, 0x20)
        shentsize, shnum = struct.unpack_from(end + 'HH', data, 0x2e)
        shdr, dyn = end + 'IIIIIIIIII', end + 'iI'
    sections = [struct.unpack_from(shdr, data, shoff + i * shentsize) for i in range(shnum)]
    for s in sections:
        if s[1] != SHT_DYNAMIC:
            continue
        offset, size, link = s[4], s[5], s[6]
        strtab_offset = sections[link][4]
        step = struct.calcsize(dyn)
        for pos in range(offset, offset + size, step):
            tag, val = struct.unpack_from(dyn, data, pos)
            if tag == DT_NULL:
                break
            if tag == DT_SONAME:
                start = strtab_offset + val
                return data[start:data.index(b'\0', start)].decode()
    raise ValueError('no DT_SONAME')


def main():
    errors = []
    for path in sys.argv[1:]:
        try:
            print(soname(path))
            return 0
        except (OSError, ValueError, struct.error, IndexError) as e:
            errors.append('{}: {}'.format(path, e))
    print('; '.join(errors) or 'no library given', file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())

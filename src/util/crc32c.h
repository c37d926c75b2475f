/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc32c.h — CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
 *
 * The checksum of the WAL and of our own on-disk records (iSCSI, ext4 and
 * LevelDB use the same function). Values are the standard finalised CRC
 * (initial value and final xor 0xFFFFFFFF), so meru_crc32c("123456789") ==
 * 0xE3069283 and meru_crc32c_extend(meru_crc32c(a), b) == meru_crc32c(a||b).
 *
 * The implementation is chosen once per process (thread-safely): the SSE4.2
 * crc32 instruction on x86-64 when the CPU has it, the ARMv8 CRC instructions
 * when the compiler targets them, otherwise a portable slicing-by-8 table.
 * All paths give identical results.
 */
#ifndef MERU_UTIL_CRC32C_H
#define MERU_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC of p[0..n) continuing from `crc`, the CRC of the preceding bytes (0 for
 * none). p may be NULL when n == 0. */
uint32_t meru_crc32c_extend(uint32_t crc, const void *p, size_t n);

/* CRC of p[0..n). */
static inline uint32_t meru_crc32c(const void *p, size_t n)
{
    return meru_crc32c_extend(0, p, n);
}

/* Same contract as meru_crc32c_extend but always the table implementation
 * (for tests and benchmarks). */
uint32_t meru_crc32c_portable(uint32_t crc, const void *p, size_t n);

/* 1 if meru_crc32c_extend uses a hardware instruction on this machine. */
int meru_crc32c_hw_available(void);

/*
 * Masked CRCs (LevelDB's scheme, used by the WAL): a CRC stored inside data
 * that is itself checksummed, or a CRC of a buffer that embeds CRCs, makes
 * weak patterns; masking breaks them. Stored CRCs are masked; readers unmask
 * before comparing (or compare masked values).
 */
#define MERU_CRC32C_MASK_DELTA 0xa282ead8u

static inline uint32_t meru_crc32c_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + MERU_CRC32C_MASK_DELTA;
}

static inline uint32_t meru_crc32c_unmask(uint32_t masked)
{
    uint32_t rot = masked - MERU_CRC32C_MASK_DELTA;
    return (rot >> 17) | (rot << 15);
}

#endif

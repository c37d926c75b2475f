/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc32c.c — CRC-32C implementations and their one-time selection.
 *
 * Internally every routine works on the raw register (the finalised CRC
 * xor 0xFFFFFFFF); meru_crc32c_extend does the pre/post inversion once.
 *
 * Selection happens in pthread_once: the slicing-by-8 tables are built and
 * the implementation pointer is stored before any thread can read either,
 * and pthread_once gives every later caller the needed happens-before.
 *
 * The hardware loops are single-stream (about 8 bytes per 3 cycles on
 * x86-64). That is far above what the WAL needs; a three-stream variant with
 * CRC combination is a possible later speed-up, not a correctness matter.
 */
#include "util/crc32c.h"

#include <pthread.h>
#include <string.h>

#include "util/endian.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MERU_CRC32C_X86 1
#include <nmmintrin.h>
#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
#define MERU_CRC32C_ARM 1
#include <arm_acle.h>
#endif

#define POLY 0x82F63B78u

typedef uint32_t (*crc_fn)(uint32_t, const uint8_t *, size_t);

static uint32_t table[8][256];
static crc_fn impl;
static int impl_is_hw;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] =
                (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

static uint32_t crc_slice8(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n >= 8) {
        /* Little-endian loads make the byte order explicit, so the same
         * table walk is right on big-endian hosts too. */
        uint32_t lo = meru_load_le32(p) ^ crc;
        uint32_t hi = meru_load_le32(p + 4);
        crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
              table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
              table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
              table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(MERU_CRC32C_X86)
__attribute__((target("sse4.2"))) static uint32_t
crc_sse42(uint32_t crc, const uint8_t *p, size_t n)
{
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--)
        c32 = _mm_crc32_u8(c32, *p++);
    return c32;
}

static int hw_detect(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}
#elif defined(MERU_CRC32C_ARM)
static uint32_t crc_armv8(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        crc = __crc32cd(crc, v);
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = __crc32cb(crc, *p++);
    return crc;
}
#endif

static void select_impl(void)
{
    build_tables();
    impl = crc_slice8;
#if defined(MERU_CRC32C_X86)
    if (hw_detect()) {
        impl = crc_sse42;
        impl_is_hw = 1;
    }
#elif defined(MERU_CRC32C_ARM)
    /* The compiler targets ARMv8 with CRC, so every CPU that can run this
     * binary has the instructions. */
    impl = crc_armv8;
    impl_is_hw = 1;
#endif
}

uint32_t meru_crc32c_extend(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&once, select_impl);
    if (n == 0)
        return crc;
    return ~impl(~crc, p, n);
}

uint32_t meru_crc32c_portable(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&once, select_impl);
    if (n == 0)
        return crc;
    return ~crc_slice8(~crc, p, n);
}

int meru_crc32c_hw_available(void)
{
    pthread_once(&once, select_impl);
    return impl_is_hw;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DEC 21041: the descriptor engine (HRM chapter 4) and the address filter.
 *
 * Both lists are walked in guest memory through bounds-checked DMA: ring
 * mode (the next descriptor follows at 16 + 4 * DSL bytes, RER/TER returns
 * to the list base) or chained mode (RCH/TCH: the second address points to
 * the next descriptor; RER/TER still wins, as the HRM orders it). The
 * model transmits instantly, so it never underflows; the only waits are a
 * descriptor the guest does not own yet and a backend that says BUSY.
 *
 * Every walk is bounded (DESC_PER_FRAME_MAX descriptors per frame,
 * TX_PASS_MAX per transmit pass, then a zero-delay timer continues), so
 * looping chains, rings in MMIO or zero-sized buffers cost bounded work
 * and end as the chip ends them: jabber timeout, truncated frame, or a
 * fatal bus error (CSR5 SE) when a descriptor lies outside RAM.
 */
#define G_LOG_DOMAIN "dec21041"
#include "dec21041.h"

#include <string.h>

/* ---- CRC ------------------------------------------------------------------ */

/* IEEE 802.3 CRC-32, bit-reflected, initial all ones, no final inversion
 * (Linux's ether_crc_le): the FCS is its complement; the hash filter
 * indexes with its low 9 bits. Table for the reflected polynomial
 * 0xEDB88320. */
static const uint32_t crc_table[256] = {
    0x00000000u, 0x77073096u, 0xEE0E612Cu, 0x990951BAu, 0x076DC419u, 0x706AF48Fu,
    0xE963A535u, 0x9E6495A3u, 0x0EDB8832u, 0x79DCB8A4u, 0xE0D5E91Eu, 0x97D2D988u,
    0x09B64C2Bu, 0x7EB17CBDu, 0xE7B82D07u, 0x90BF1D91u, 0x1DB71064u, 0x6AB020F2u,
    0xF3B97148u, 0x84BE41DEu, 0x1ADAD47Du, 0x6DDDE4EBu, 0xF4D4B551u, 0x83D385C7u,
    0x136C9856u, 0x646BA8C0u, 0xFD62F97Au, 0x8A65C9ECu, 0x14015C4Fu, 0x63066CD9u,
    0xFA0F3D63u, 0x8D080DF5u, 0x3B6E20C8u, 0x4C69105Eu, 0xD56041E4u, 0xA2677172u,
    0x3C03E4D1u, 0x4B04D447u, 0xD20D85FDu, 0xA50AB56Bu, 0x35B5A8FAu, 0x42B2986Cu,
    0xDBBBC9D6u, 0xACBCF940u, 0x32D86CE3u, 0x45DF5C75u, 0xDCD60DCFu, 0xABD13D59u,
    0x26D930ACu, 0x51DE003Au, 0xC8D75180u, 0xBFD06116u, 0x21B4F4B5u, 0x56B3C423u,
    0xCFBA9599u, 0xB8BDA50Fu, 0x2802B89Eu, 0x5F058808u, 0xC60CD9B2u, 0xB10BE924u,
    0x2F6F7C87u, 0x58684C11u, 0xC1611DABu, 0xB6662D3Du, 0x76DC4190u, 0x01DB7106u,
    0x98D220BCu, 0xEFD5102Au, 0x71B18589u, 0x06B6B51Fu, 0x9FBFE4A5u, 0xE8B8D433u,
    0x7807C9A2u, 0x0F00F934u, 0x9609A88Eu, 0xE10E9818u, 0x7F6A0DBBu, 0x086D3D2Du,
    0x91646C97u, 0xE6635C01u, 0x6B6B51F4u, 0x1C6C6162u, 0x856530D8u, 0xF262004Eu,
    0x6C0695EDu, 0x1B01A57Bu, 0x8208F4C1u, 0xF50FC457u, 0x65B0D9C6u, 0x12B7E950u,
    0x8BBEB8EAu, 0xFCB9887Cu, 0x62DD1DDFu, 0x15DA2D49u, 0x8CD37CF3u, 0xFBD44C65u,
    0x4DB26158u, 0x3AB551CEu, 0xA3BC0074u, 0xD4BB30E2u, 0x4ADFA541u, 0x3DD895D7u,
    0xA4D1C46Du, 0xD3D6F4FBu, 0x4369E96Au, 0x346ED9FCu, 0xAD678846u, 0xDA60B8D0u,
    0x44042D73u, 0x33031DE5u, 0xAA0A4C5Fu, 0xDD0D7CC9u, 0x5005713Cu, 0x270241AAu,
    0xBE0B1010u, 0xC90C2086u, 0x5768B525u, 0x206F85B3u, 0xB966D409u, 0xCE61E49Fu,
    0x5EDEF90Eu, 0x29D9C998u, 0xB0D09822u, 0xC7D7A8B4u, 0x59B33D17u, 0x2EB40D81u,
    0xB7BD5C3Bu, 0xC0BA6CADu, 0xEDB88320u, 0x9ABFB3B6u, 0x03B6E20Cu, 0x74B1D29Au,
    0xEAD54739u, 0x9DD277AFu, 0x04DB2615u, 0x73DC1683u, 0xE3630B12u, 0x94643B84u,
    0x0D6D6A3Eu, 0x7A6A5AA8u, 0xE40ECF0Bu, 0x9309FF9Du, 0x0A00AE27u, 0x7D079EB1u,
    0xF00F9344u, 0x8708A3D2u, 0x1E01F268u, 0x6906C2FEu, 0xF762575Du, 0x806567CBu,
    0x196C3671u, 0x6E6B06E7u, 0xFED41B76u, 0x89D32BE0u, 0x10DA7A5Au, 0x67DD4ACCu,
    0xF9B9DF6Fu, 0x8EBEEFF9u, 0x17B7BE43u, 0x60B08ED5u, 0xD6D6A3E8u, 0xA1D1937Eu,
    0x38D8C2C4u, 0x4FDFF252u, 0xD1BB67F1u, 0xA6BC5767u, 0x3FB506DDu, 0x48B2364Bu,
    0xD80D2BDAu, 0xAF0A1B4Cu, 0x36034AF6u, 0x41047A60u, 0xDF60EFC3u, 0xA867DF55u,
    0x316E8EEFu, 0x4669BE79u, 0xCB61B38Cu, 0xBC66831Au, 0x256FD2A0u, 0x5268E236u,
    0xCC0C7795u, 0xBB0B4703u, 0x220216B9u, 0x5505262Fu, 0xC5BA3BBEu, 0xB2BD0B28u,
    0x2BB45A92u, 0x5CB36A04u, 0xC2D7FFA7u, 0xB5D0CF31u, 0x2CD99E8Bu, 0x5BDEAE1Du,
    0x9B64C2B0u, 0xEC63F226u, 0x756AA39Cu, 0x026D930Au, 0x9C0906A9u, 0xEB0E363Fu,
    0x72076785u, 0x05005713u, 0x95BF4A82u, 0xE2B87A14u, 0x7BB12BAEu, 0x0CB61B38u,
    0x92D28E9Bu, 0xE5D5BE0Du, 0x7CDCEFB7u, 0x0BDBDF21u, 0x86D3D2D4u, 0xF1D4E242u,
    0x68DDB3F8u, 0x1FDA836Eu, 0x81BE16CDu, 0xF6B9265Bu, 0x6FB077E1u, 0x18B74777u,
    0x88085AE6u, 0xFF0F6A70u, 0x66063BCAu, 0x11010B5Cu, 0x8F659EFFu, 0xF862AE69u,
    0x616BFFD3u, 0x166CCF45u, 0xA00AE278u, 0xD70DD2EEu, 0x4E048354u, 0x3903B3C2u,
    0xA7672661u, 0xD06016F7u, 0x4969474Du, 0x3E6E77DBu, 0xAED16A4Au, 0xD9D65ADCu,
    0x40DF0B66u, 0x37D83BF0u, 0xA9BCAE53u, 0xDEBB9EC5u, 0x47B2CF7Fu, 0x30B5FFE9u,
    0xBDBDF21Cu, 0xCABAC28Au, 0x53B39330u, 0x24B4A3A6u, 0xBAD03605u, 0xCDD70693u,
    0x54DE5729u, 0x23D967BFu, 0xB3667A2Eu, 0xC4614AB8u, 0x5D681B02u, 0x2A6F2B94u,
    0xB40BBE37u, 0xC30C8EA1u, 0x5A05DF1Bu, 0x2D02EF8Du,
};

/* Slicing by 8 (eight bytes per step, tables of the CRC of a byte
 * followed by 1-7 zero bytes): every received frame's FCS goes through
 * here, and a byte at a time it was 13% of the host's time in a guest
 * download through shared. */
static uint32_t crc_slice[7][256];
#if defined(__x86_64__) && defined(__GNUC__)
static bool crc_clmul_ok;           /* the host has PCLMULQDQ: crc_clmul */
#endif

static gpointer crc_slice_init(gpointer data)
{
    (void)data;
#if defined(__x86_64__) && defined(__GNUC__)
    crc_clmul_ok = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse2");
#endif
    for (unsigned i = 0; i < 256; i++) {
        uint32_t c = crc_table[i];
        for (unsigned k = 0; k < 7; k++) {
            c = (c >> 8) ^ crc_table[c & 0xFF];
            crc_slice[k][i] = c;
        }
    }
    return NULL;
}

static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DEC_CRC_CLMUL 1

/* Carry-less multiplication folds 16 bytes at a time (the method of
 * Intel's "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ", with the constants of the bit-reflected IEEE polynomial:
 * x^n mod P for the fold distances, then a Barrett reduction). len is a
 * multiple of 16 and at least 64; crc in and out as the tables' (no
 * inversion). A received frame's FCS took 3.5% of the host's time in a
 * guest's download with the tables alone. */
__attribute__((target("pclmul,sse2")))
static inline __m128i crc_fold16(__m128i x, __m128i k, __m128i d)
{
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
                                       _mm_clmulepi64_si128(x, k, 0x11)), d);
}

__attribute__((target("pclmul,sse2")))
static uint32_t crc_clmul(const uint8_t *p, size_t len, uint32_t crc)
{
    const __m128i k12 = _mm_set_epi64x(0x1C6E41596, 0x154442BD4);   /* x^(4*128+-32) */
    const __m128i k34 = _mm_set_epi64x(0x0CCAA009E, 0x1751997D0);   /* x^(128+-32) */
    const __m128i k5 = _mm_set_epi64x(0, 0x163CD6124);              /* x^64 */
    const __m128i pmu = _mm_set_epi64x(0x1F7011641, 0x1DB710641);   /* mu, P */
    const __m128i m32 = _mm_set_epi32(0, 0, 0, -1);
    const __m128i *v = (const __m128i *)(const void *)p;
    __m128i x1 = _mm_xor_si128(_mm_loadu_si128(v), _mm_cvtsi32_si128((int)crc));
    __m128i x2 = _mm_loadu_si128(v + 1), x3 = _mm_loadu_si128(v + 2), x4 = _mm_loadu_si128(v + 3);
    for (v += 4, len -= 64; len >= 64; v += 4, len -= 64) {
        x1 = crc_fold16(x1, k12, _mm_loadu_si128(v));
        x2 = crc_fold16(x2, k12, _mm_loadu_si128(v + 1));
        x3 = crc_fold16(x3, k12, _mm_loadu_si128(v + 2));
        x4 = crc_fold16(x4, k12, _mm_loadu_si128(v + 3));
    }
    x1 = crc_fold16(x1, k34, x2);
    x1 = crc_fold16(x1, k34, x3);
    x1 = crc_fold16(x1, k34, x4);
    for (; len >= 16; v++, len -= 16)
        x1 = crc_fold16(x1, k34, _mm_loadu_si128(v));
    /* 128 bits to 64, with 32 zero bits appended */
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), _mm_clmulepi64_si128(k34, x1, 0x01));
    /* 64 to 32 */
    __m128i t = _mm_srli_si128(x1, 4);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, m32), k5, 0x00), t);
    /* Barrett: the remainder in bits 32-63 */
    t = x1;
    x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, m32), pmu, 0x10);
    x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, m32), pmu, 0x00);
    x1 = _mm_xor_si128(x1, t);
    return (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(x1, 4));
}
#endif

uint32_t dec_crc32_le(const uint8_t *p, size_t len)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, crc_slice_init, NULL);
    uint32_t crc = 0xFFFFFFFFu;
#ifdef DEC_CRC_CLMUL
    if (crc_clmul_ok && len >= 64) {
        crc = crc_clmul(p, len & ~(size_t)15, crc);
        p += len & ~(size_t)15;
        len &= 15;
    }
#endif
    for (; len >= 8; p += 8, len -= 8) {
        uint32_t lo = le32(p) ^ crc, hi = le32(p + 4);
        crc = crc_slice[6][lo & 0xFF] ^ crc_slice[5][(lo >> 8) & 0xFF]
            ^ crc_slice[4][(lo >> 16) & 0xFF] ^ crc_slice[3][lo >> 24]
            ^ crc_slice[2][hi & 0xFF] ^ crc_slice[1][(hi >> 8) & 0xFF]
            ^ crc_slice[0][(hi >> 16) & 0xFF] ^ crc_table[hi >> 24];
    }
    for (; len; p++, len--)
        crc = (crc >> 8) ^ crc_table[(crc ^ *p) & 0xFF];
    return crc;
}

/* ---- descriptors and buffers ----------------------------------------------- */

/* A descriptor's four longwords, little-endian unless CSR0 DBO. */
static bool desc_read(Dec21041 *s, uint32_t addr, uint32_t d[4])
{
    uint8_t b[16];
    if (!dec_dma_read(s, addr, b, sizeof(b)))
        return false;
    bool be = s->csr[0] & CSR0_DBO;
    for (int i = 0; i < 4; i++) {
        const uint8_t *w = b + 4 * i;
        d[i] = be ? (uint32_t)w[0] << 24 | (uint32_t)w[1] << 16 | (uint32_t)w[2] << 8 | w[3]
                  : (uint32_t)w[3] << 24 | (uint32_t)w[2] << 16 | (uint32_t)w[1] << 8 | w[0];
    }
    return true;
}

static bool desc_write0(Dec21041 *s, uint32_t addr, uint32_t v)
{
    uint8_t b[4];
    if (s->csr[0] & CSR0_DBO) {
        b[0] = (uint8_t)(v >> 24); b[1] = (uint8_t)(v >> 16);
        b[2] = (uint8_t)(v >> 8);  b[3] = (uint8_t)v;
    } else {
        b[0] = (uint8_t)v;         b[1] = (uint8_t)(v >> 8);
        b[2] = (uint8_t)(v >> 16); b[3] = (uint8_t)(v >> 24);
    }
    return dec_dma_write(s, addr, b, 4);
}

static void swap_lanes(uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i += 4) {
        uint8_t t = p[i];
        p[i] = p[i + 3]; p[i + 3] = t;
        t = p[i + 1]; p[i + 1] = p[i + 2]; p[i + 2] = t;
    }
}

/* Buffer data. With CSR0 BLE the byte lanes of each longword are
 * reversed (big-endian buffers): the longwords the buffer touches are
 * moved whole and swapped, which is what the chip's lane steering does. */
static bool buf_read(Dec21041 *s, uint32_t addr, uint8_t *dst, size_t len)
{
    if (!len)
        return true;
    if (!(s->csr[0] & CSR0_BLE))
        return dec_dma_read(s, addr, dst, len);
    uint8_t tmp[2048 + 8];
    uint32_t start = addr & ~3u;
    size_t span = ((addr - start) + len + 3) & ~(size_t)3;
    g_assert(span <= sizeof(tmp));
    if (!dec_dma_read(s, start, tmp, span))
        return false;
    swap_lanes(tmp, span);
    memcpy(dst, tmp + (addr - start), len);
    return true;
}

static bool buf_write(Dec21041 *s, uint32_t addr, const uint8_t *src, size_t len)
{
    if (!len)
        return true;
    if (!(s->csr[0] & CSR0_BLE))
        return dec_dma_write(s, addr, src, len);
    uint8_t tmp[2048 + 8];
    uint32_t start = addr & ~3u;
    size_t span = ((addr - start) + len + 3) & ~(size_t)3;
    g_assert(span <= sizeof(tmp));
    if (!dec_dma_read(s, start, tmp, span))
        return false;
    swap_lanes(tmp, span);
    memcpy(tmp + (addr - start), src, len);
    swap_lanes(tmp, span);
    return dec_dma_write(s, start, tmp, span);
}

uint32_t dec_next_desc(Dec21041 *s, uint32_t cur, uint32_t des1, uint32_t des3, uint32_t base)
{
    if (des1 & DES1_ER)
        return base & ~3u;
    if (des1 & DES1_CH)
        return des3 & ~3u;
    uint32_t dsl = (s->csr[0] & CSR0_DSL_MASK) >> CSR0_DSL_SHIFT;
    return cur + 16 + 4 * dsl;
}

/* ---- address filter ----------------------------------------------------------- */

static bool in_table(Dec21041 *s, const uint8_t *dst)
{
    for (unsigned e = 0; e < 16; e++)
        if (!memcmp(s->perfect[e], dst, 6))
            return true;
    return false;
}

static bool hash_hit(Dec21041 *s, const uint8_t *dst)
{
    unsigned i = dec_crc32_le(dst, 6) & 0x1FF;
    return s->hash[i / 8] & (1u << (i % 8));
}

bool dec_rx_accept(Dec21041 *s, const uint8_t *dst)
{
    bool multicast = dst[0] & 1;
    if (s->csr[6] & CSR6_PR)
        return true;
    if (multicast && (s->csr[6] & CSR6_PM))
        return true;
    switch (s->filter_mode) {
    case FILT_HASH:
        /* 512-bit table for multicast, the one perfect address (bytes
         * 156-167 of the setup frame) for unicast */
        return multicast ? hash_hit(s, dst) : !memcmp(s->perfect[13], dst, 6);
    case FILT_HASH_ONLY:
        return hash_hit(s, dst);
    case FILT_INVERSE:
        return !in_table(s, dst);
    default:
        return in_table(s, dst);
    }
}

/* A setup frame (HRM 4.2.3): 16 entries of three longwords whose low
 * shortwords hold an address, or (hash modes) 32 longwords of table bits
 * and the perfect address in entry 13. A short buffer leaves the missing
 * entries zero. */
static void setup_frame(Dec21041 *s, const uint8_t *b, uint32_t des1)
{
    s->filter_mode = (des1 & TDES1_FT1 ? 2u : 0u) | (des1 & TDES1_FT0 ? 1u : 0u);
    for (unsigned e = 0; e < 16; e++) {
        const uint8_t *p = b + 12 * e;
        uint8_t *a = s->perfect[e];
        a[0] = p[0]; a[1] = p[1]; a[2] = p[4]; a[3] = p[5]; a[4] = p[8]; a[5] = p[9];
    }
    for (unsigned w = 0; w < 32; w++) {
        s->hash[2 * w] = b[4 * w];
        s->hash[2 * w + 1] = b[4 * w + 1];
    }
    /* CSR6 HP/HO/IF report the filtering mode in force */
    static const uint32_t ro[4] = {
        [FILT_PERFECT] = 0, [FILT_HASH] = CSR6_HP,
        [FILT_INVERSE] = CSR6_IF, [FILT_HASH_ONLY] = CSR6_HP | CSR6_HO,
    };
    s->csr[6] = (s->csr[6] & ~CSR6_FILTER_RO) | ro[s->filter_mode];

    /* The station's own unicast address, for backends that care (DHCP,
     * the switch's learning): entry 13 in hash mode, else the last
     * unicast entry, where drivers put it. */
    const uint8_t *own = NULL;
    if (s->filter_mode == FILT_HASH)
        own = s->perfect[13];
    else if (s->filter_mode == FILT_PERFECT)
        for (int e = 15; e >= 0 && !own; e--)
            if (!(s->perfect[e][0] & 1) && memcmp(s->perfect[e], "\0\0\0\0\0\0", 6))
                own = s->perfect[e];
    if (own && s->port && memcmp(own, tess_net_port_mac(s->port), 6))
        tess_net_port_set_mac(s->port, own);
}

/* ---- receive -------------------------------------------------------------------- */

/* Place one frame (already accepted by the filter) in the receive list.
 * Returns false when no descriptor is free: the caller leaves the frame
 * to the port, which offers it again after a poll demand. */
bool dec_rx_frame(Dec21041 *s, const uint8_t *frame, size_t len)
{
    uint8_t *rx_wire = s->rx_wire;
    /* What the wire delivers: at least 60 bytes, then the FCS. */
    size_t data = MIN(len, (size_t)TESS_NET_FRAME_MAX);
    memcpy(rx_wire, frame, data);
    if (data < 60) {
        memset(rx_wire + data, 0, 60 - data);
        data = 60;
    }
    uint32_t fcs = ~dec_crc32_le(rx_wire, data);
    for (int i = 0; i < 4; i++)
        rx_wire[data + i] = (uint8_t)(fcs >> (8 * i));
    size_t total = data + 4;
    bool watchdog = false;
    if (total > WIRE_FRAME_MAX && !(s->csr[15] & CSR15_RWD)) {
        /* the receive watchdog cuts a frame that is still arriving */
        total = WIRE_FRAME_MAX;
        watchdog = true;
    }
    total = MIN(total, (size_t)0x3FFF);       /* FL is 14 bits */

    /* Is there room? Walk the owned descriptors without touching them, so
     * a frame waits whole for the guest instead of being split. */
    uint32_t d[4];
    uint32_t cur = s->rx_cur;
    size_t cap = 0;
    unsigned n = 0;
    bool short_of_desc = false;
    while (cap < total && n < DESC_PER_FRAME_MAX) {
        if (!desc_read(s, cur, d))
            return true;                        /* bus error: frame lost */
        if (!(d[0] & DES0_OWN)) {
            short_of_desc = true;
            break;
        }
        cap += DES1_BS1(d[1]) + ((d[1] & DES1_CH) ? 0 : DES1_BS2(d[1]));
        n++;
        cur = dec_next_desc(s, cur, d[1], d[3], s->csr[3]);
    }
    if (short_of_desc) {
        if (s->rs != RS_SUSPENDED) {
            s->rs = RS_SUSPENDED;
            dec_raise(s, CSR5_RU);
        }
        if (!s->rx_refused) {
            s->rx_refused = 1;
            uint32_t mf = s->csr[8] & 0xFFFF;
            if (mf == 0xFFFF)
                s->csr[8] |= CSR8_MFO;
            else
                s->csr[8] = (s->csr[8] & CSR8_MFO) | (mf + 1);
        }
        return false;
    }
    s->rx_refused = 0;

    uint32_t status_flags = 0;
    if (frame[0] & 1)
        status_flags |= RDES0_MF;
    if (len >= 14 && ((uint32_t)frame[12] << 8 | frame[13]) >= 0x0600)
        status_flags |= RDES0_FT;
    if (total > 1518)
        status_flags |= RDES0_TL;
    if (watchdog)
        status_flags |= RDES0_RW | RDES0_ES;

    size_t off = 0;
    uint32_t prev = 0, prev_st = 0;
    bool done = false;
    cur = s->rx_cur;
    for (n = 0; n < DESC_PER_FRAME_MAX; n++) {
        if (!desc_read(s, cur, d))
            return true;
        if (!(d[0] & DES0_OWN))
            break;
        bool chained = d[1] & DES1_CH;
        size_t c1 = MIN((size_t)DES1_BS1(d[1]), total - off);
        if (!buf_write(s, d[2], rx_wire + off, c1))
            return true;
        off += c1;
        if (!chained) {
            size_t c2 = MIN((size_t)DES1_BS2(d[1]), total - off);
            if (!buf_write(s, d[3], rx_wire + off, c2))
                return true;
            off += c2;
        }
        uint32_t st = n == 0 ? RDES0_FS : 0;
        uint32_t next = dec_next_desc(s, cur, d[1], d[3], s->csr[3]);
        if (off == total) {
            st |= RDES0_LS | status_flags | (uint32_t)total << RDES0_FL_SHIFT;
            if (!desc_write0(s, cur, st))
                return true;
            s->rx_cur = next;
            done = true;
            break;
        }
        if (!desc_write0(s, cur, st))
            return true;
        prev = cur;
        prev_st = st;
        cur = next;
    }
    if (!done) {
        /* Out of descriptors inside the frame (the guest's buffers are
         * smaller than the frame, or the list loops): the chip closes the
         * last one with DE and drops the rest of the frame. */
        s->rx_cur = cur;
        if (n > 0)
            desc_write0(s, prev, prev_st | RDES0_LS | RDES0_DE | RDES0_ES |
                                 (uint32_t)off << RDES0_FL_SHIFT);
        s->rs = RS_SUSPENDED;
        uint32_t mf = s->csr[8] & 0xFFFF;
        s->csr[8] = mf == 0xFFFF ? s->csr[8] | CSR8_MFO : (s->csr[8] & CSR8_MFO) | (mf + 1);
        dec_raise(s, CSR5_RI | CSR5_RU);
        return true;
    }
    dec_raise(s, CSR5_RI | (watchdog ? CSR5_RWT : 0));
    return true;
}

/* ---- transmit ------------------------------------------------------------------- */

static void tx_suspend(Dec21041 *s)
{
    /* CSR0 TAP: the chip polls the list by itself while suspended */
    static const uint64_t tap_ns[8] = { 0, 200000, 800000, 1600000, 12800, 25600, 51200, 102400 };
    /* TU marks the passage into the suspended state, not every look at
     * an empty list (automatic polling would otherwise storm) */
    if (s->ts != TS_SUSPENDED) {
        s->ts = TS_SUSPENDED;
        dec_raise(s, CSR5_TU);
    }
    uint64_t t = tap_ns[(s->csr[0] & CSR0_TAP_MASK) >> CSR0_TAP_SHIFT];
    if (t && !s->fatal)
        tess_timer_arm_in(s->tx_timer, t);
}

/* Send the assembled frame; returns the TDES0 status, or UINT32_MAX when
 * the backend is busy (nothing is written back, we retry on tx_ready). */
static uint32_t tx_send(Dec21041 *s, size_t len, uint32_t first1)
{
    uint32_t om = (s->csr[6] & CSR6_OM_MASK) >> CSR6_OM_SHIFT;
    if (first1 & TDES1_AC) {
        /* the guest appended its own CRC: it is on the wire, not in the
         * port's frame */
        len = len >= 4 ? len - 4 : 0;
    } else if (!(first1 & TDES1_DPD) && len < 60) {
        memset(s->frame + len, 0, 60 - len);
        len = 60;
    }
    if (om == CSR6_OM_INTERNAL || om == CSR6_OM_EXTERNAL) {
        /* Loopback: the frame comes back to our own receiver and never
         * reaches the network (external loopback loops at the
         * transceiver, which the virtual cable does not have). */
        if ((s->csr[6] & CSR6_SR) && !s->fatal && len >= 6 && dec_rx_accept(s, s->frame))
            dec_rx_frame(s, s->frame, len);
        return 0;
    }
    if (!dec_wire_up(s))
        return TDES0_ES | TDES0_LO | TDES0_NC;
    TessNetTx r = tess_net_port_send(s->port, s->frame, len);
    if (r == TESS_NET_BUSY)
        return UINT32_MAX;
    /* DROPPED: lost downstream, like a frame on a wire nobody hears */
    return 0;
}

void dec_tx_poll(Dec21041 *s)
{
    if (s->ts == TS_STOPPED || s->fatal || s->tx_busy)
        return;
    if (!s->cfg || !(s->cfg[0x04] & 0x04)) {
        tess_guest_error(&s->dev, "transmit poll with bus mastering disabled");
        return;
    }
    tess_timer_cancel(s->tx_timer);
    uint32_t base = s->csr[4];
    unsigned work = 0;
    while (work < TX_PASS_MAX) {
        uint32_t d[4];
        if (!desc_read(s, s->tx_cur, d))
            return;
        if (!(d[0] & DES0_OWN)) {
            tx_suspend(s);
            return;
        }
        s->ts = TS_FETCH;
        if (d[1] & TDES1_SET) {
            uint8_t sf[SETUP_FRAME_LEN] = { 0 };
            if (!buf_read(s, d[2], sf, MIN(DES1_BS1(d[1]), SETUP_FRAME_LEN)))
                return;
            setup_frame(s, sf, d[1]);
            if (!desc_write0(s, s->tx_cur, 0))
                return;
            if (d[1] & TDES1_IC)
                dec_raise(s, CSR5_TI);
            s->tx_cur = dec_next_desc(s, s->tx_cur, d[1], d[3], base);
            work++;
            continue;
        }
        if (!(d[1] & TDES1_FS)) {
            /* outside a frame (e.g. the dummy descriptor Linux puts before
             * a setup frame): handed back unprocessed */
            if (!desc_write0(s, s->tx_cur, 0))
                return;
            s->tx_cur = dec_next_desc(s, s->tx_cur, d[1], d[3], base);
            work++;
            continue;
        }

        /* Gather the frame from FS to LS without writing anything back, so
         * a frame whose tail the guest has not handed over yet, or that
         * the backend refuses, stays where it is. */
        uint32_t addrs[DESC_PER_FRAME_MAX];
        uint32_t first1 = d[1], last1 = 0, last3 = 0;
        unsigned n = 0;
        size_t len = 0;
        bool jabber = false;
        uint32_t cur = s->tx_cur;
        for (;;) {
            addrs[n++] = cur;
            uint32_t sizes[2] = { DES1_BS1(d[1]), (d[1] & DES1_CH) ? 0 : DES1_BS2(d[1]) };
            for (int b = 0; b < 2; b++) {
                size_t take = MIN((size_t)sizes[b], (size_t)WIRE_FRAME_MAX - len);
                if (!buf_read(s, d[2 + b], s->frame + len, take))
                    return;
                len += take;
                if (take < sizes[b])
                    jabber = true;
            }
            last1 = d[1];
            last3 = d[3];
            if ((d[1] & TDES1_LS) || jabber)
                break;
            if (n == DESC_PER_FRAME_MAX) {
                jabber = true;
                break;
            }
            cur = dec_next_desc(s, cur, d[1], d[3], base);
            if (!desc_read(s, cur, d))
                return;
            if (!(d[0] & DES0_OWN)) {
                tx_suspend(s);
                return;
            }
        }
        if (jabber && (s->csr[15] & CSR15_JBD) && (last1 & TDES1_LS))
            jabber = false;             /* jabber disabled: sent, cut at WIRE_FRAME_MAX */

        uint32_t status;
        if (jabber) {
            status = TDES0_ES | TDES0_TO;
        } else {
            status = tx_send(s, len, first1);
            if (status == UINT32_MAX) {
                s->tx_busy = 1;
                return;
            }
        }
        /* The closing status carries TDES0_LAST. Without it Linux's
         * de2104x never releases a transmitted frame: every socket
         * buffer leaks, and TCP's small-queue limit, which waits for
         * those releases, then lets a connection have only one
         * unacknowledged buffer on the wire - a transfer bound by
         * round trips with the guests mostly idle. The HRM marks the bit
         * reserved: this is the model's one departure from it, made for
         * the driver the machine is built around. */
        for (unsigned i = 0; i + 1 < n; i++)
            if (!desc_write0(s, addrs[i], 0))
                return;
        if (!desc_write0(s, addrs[n - 1], status | TDES0_LAST))
            return;
        s->tx_cur = dec_next_desc(s, addrs[n - 1], last1, last3, base);
        work += n;
        if (jabber) {
            /* the jabber timer stops the transmit process */
            s->ts = TS_STOPPED;
            dec_raise(s, CSR5_TJT | CSR5_TPS);
            return;
        }
        if (last1 & TDES1_IC)
            dec_raise(s, CSR5_TI);
    }
    /* a long list: yield, and carry on right after */
    tess_timer_arm_in(s->tx_timer, 1000);
}

void dec_tx_timer(void *opaque)
{
    dec_tx_poll(opaque);
}

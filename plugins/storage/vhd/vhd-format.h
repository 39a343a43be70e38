/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VHD on-disk structures (Microsoft "Virtual Hard Disk Image Format
 * Specification" v1.0, 2006): hard disk footer, dynamic disk header,
 * parent locators, checksums, the CHS appendix and the size rules.
 * Everything on disk is big-endian; these decode into host-order structs.
 */
#ifndef TESS_STORAGE_VHD_FORMAT_H
#define TESS_STORAGE_VHD_FORMAT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

#define VHD_SECTOR          512u
#define VHD_FOOTER_SIZE     512u
#define VHD_HEADER_SIZE     1024u
#define VHD_BAT_UNUSED      0xFFFFFFFFu
#define VHD_NO_OFFSET       0xFFFFFFFFFFFFFFFFull

enum { VHD_TYPE_NONE = 0, VHD_TYPE_FIXED = 2, VHD_TYPE_DYNAMIC = 3, VHD_TYPE_DIFF = 4 };

#define VHD_FEATURE_TEMPORARY 0x1u
#define VHD_FEATURE_RESERVED  0x2u        /* "must always be set to 1" */
#define VHD_VERSION           0x00010000u

/* The spec's limit for dynamic disks; also what qemu and Hyper-V accept. */
#define VHD_MAX_SIZE          (2040ull << 30)
#define VHD_MIN_BLOCK         512u
#define VHD_MAX_BLOCK         (256u << 20)
#define VHD_DEFAULT_BLOCK     (2u << 20)
/* Longest parent locator we read (a path, UTF-16). */
#define VHD_MAX_LOCATOR       (64u << 10)

/* Seconds from the Unix epoch to 2000-01-01 00:00:00 UTC. */
#define VHD_EPOCH             946684800ll

#define VHD_PLAT_W2RU 0x57327275u         /* "W2ru": relative UTF-16LE path */
#define VHD_PLAT_W2KU 0x57326B75u         /* "W2ku": absolute UTF-16LE path */
#define VHD_PLAT_MACX 0x4D616358u         /* "MacX": UTF-8 file URL */
#define VHD_PLAT_WI2R 0x57693272u         /* deprecated */
#define VHD_PLAT_WI2K 0x5769326Bu         /* deprecated */

typedef struct VhdFooter {
    char cookie[8];
    uint32_t features;
    uint32_t version;
    uint64_t data_offset;
    uint32_t timestamp;
    char creator_app[4];
    uint32_t creator_version;
    uint32_t creator_os;
    uint64_t orig_size;
    uint64_t cur_size;
    uint16_t cylinders;
    uint8_t heads;
    uint8_t spt;
    uint32_t disk_type;
    uint32_t checksum;
    uint8_t uuid[16];
    uint8_t saved_state;
} VhdFooter;

typedef struct VhdLocator {
    uint32_t code;
    uint32_t space;                  /* sectors (some writers: bytes) */
    uint32_t length;                 /* bytes */
    uint32_t reserved;
    uint64_t offset;
} VhdLocator;

typedef struct VhdHeader {
    char cookie[8];
    uint64_t data_offset;
    uint64_t table_offset;
    uint32_t version;
    uint32_t max_entries;
    uint32_t block_size;
    uint32_t checksum;
    uint8_t parent_uuid[16];
    uint32_t parent_ts;
    uint8_t parent_name[512];        /* UTF-16BE, as stored */
    VhdLocator loc[8];
} VhdHeader;

/* One's complement of the byte sum, the checksum field counted as zero. */
uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t csum_off);

void vhd_footer_decode(const uint8_t *b, VhdFooter *f);
/* Encode into 512 bytes, computing the checksum (stored back into f). */
void vhd_footer_encode(VhdFooter *f, uint8_t *b);
/* Cookie "conectix" and a matching checksum; `len` 512, or 511 for the
 * footers of versions before Virtual PC 2004. */
bool vhd_footer_ok(const uint8_t *b, size_t len);

void vhd_header_decode(const uint8_t *b, VhdHeader *h);
void vhd_header_encode(VhdHeader *h, uint8_t *b);
bool vhd_header_ok(const uint8_t *b);

/* CHS from a sector count, as the specification's appendix computes it
 * (rounding down). */
void vhd_chs(uint64_t total_sectors, uint16_t *cyl, uint8_t *heads, uint8_t *spt);
/* The smallest size >= bytes that a VHD can describe exactly: C*H*S whole
 * (as Virtual PC and qemu size their disks), or bytes rounded to a sector
 * beyond the largest geometry. */
uint64_t vhd_round_size(uint64_t bytes);
/* The disk's size as the guest sees it: C*H*S for images made by Virtual
 * PC, Virtual Server and qemu (unless the geometry is the maximum),
 * current size for every other creator (Hyper-V, Disk2vhd, XenServer,
 * Azure, qemu with force_size, Tessera...). */
uint64_t vhd_disk_size(const VhdFooter *f);

uint32_t vhd_time_from_unix(int64_t t);
int64_t vhd_time_to_unix(uint32_t t);

char *vhd_uuid_text(const uint8_t uuid[16]);
void vhd_uuid_generate(uint8_t uuid[16]);
bool vhd_uuid_is_zero(const uint8_t uuid[16]);

/* UTF-16 (little- or big-endian bytes) to UTF-8; NULL if invalid. Stops
 * at the first NUL. */
char *vhd_utf16_decode(const uint8_t *b, size_t len, bool big_endian);
/* UTF-8 to UTF-16 bytes (no terminator); *out_len bytes. */
uint8_t *vhd_utf16_encode(const char *s, bool big_endian, size_t *out_len);

#pragma GCC visibility pop

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Instruction decoder: prefixes, opcode maps (SDM vol. 2, appendix A),
 * ModRM/SIB addressing (vol. 2, 2.1.5) and immediates, into an X86Insn
 * whose handler is chosen once, at decode time.
 */
#include "x86-ops.h"
#include "x86-fast.h"
#include "x86-simd.h"

enum {
    I_NONE, I_B, I_BS, I_Z, I_W, I_WB, I_AP, I_MO, I_RELB, I_RELZ, I_GRP3,
};
#define M 0x80
/* 0F opcodes whose operation a mandatory prefix (66/F2/F3) selects: the
 * handler comes from x86_simd_hnd (x86-simd-decode.c), not hnd2. */
#define S 0x40

static const uint8_t dec1[256] = {
    [0x00] = M, [0x01] = M, [0x02] = M, [0x03] = M, [0x04] = I_B, [0x05] = I_Z,
    [0x08] = M, [0x09] = M, [0x0A] = M, [0x0B] = M, [0x0C] = I_B, [0x0D] = I_Z,
    [0x10] = M, [0x11] = M, [0x12] = M, [0x13] = M, [0x14] = I_B, [0x15] = I_Z,
    [0x18] = M, [0x19] = M, [0x1A] = M, [0x1B] = M, [0x1C] = I_B, [0x1D] = I_Z,
    [0x20] = M, [0x21] = M, [0x22] = M, [0x23] = M, [0x24] = I_B, [0x25] = I_Z,
    [0x28] = M, [0x29] = M, [0x2A] = M, [0x2B] = M, [0x2C] = I_B, [0x2D] = I_Z,
    [0x30] = M, [0x31] = M, [0x32] = M, [0x33] = M, [0x34] = I_B, [0x35] = I_Z,
    [0x38] = M, [0x39] = M, [0x3A] = M, [0x3B] = M, [0x3C] = I_B, [0x3D] = I_Z,
    [0x62] = M, [0x63] = M, [0x68] = I_Z, [0x69] = M | I_Z, [0x6A] = I_BS,
    [0x6B] = M | I_BS,
    [0x70 ... 0x7F] = I_RELB,
    [0x80] = M | I_B, [0x81] = M | I_Z, [0x82] = M | I_B, [0x83] = M | I_BS,
    [0x84 ... 0x8F] = M,
    [0x9A] = I_AP, [0xA0 ... 0xA3] = I_MO, [0xA8] = I_B, [0xA9] = I_Z,
    [0xB0 ... 0xB7] = I_B, [0xB8 ... 0xBF] = I_Z,
    [0xC0] = M | I_B, [0xC1] = M | I_B, [0xC2] = I_W, [0xC4] = M, [0xC5] = M,
    [0xC6] = M | I_B, [0xC7] = M | I_Z, [0xC8] = I_WB, [0xCA] = I_W, [0xCD] = I_B,
    [0xD0 ... 0xD3] = M, [0xD4] = I_B, [0xD5] = I_B, [0xD8 ... 0xDF] = M,
    [0xE0 ... 0xE3] = I_RELB, [0xE4 ... 0xE7] = I_B, [0xE8] = I_RELZ, [0xE9] = I_RELZ,
    [0xEA] = I_AP, [0xEB] = I_RELB,
    [0xF6] = M | I_GRP3, [0xF7] = M | I_GRP3, [0xFE] = M, [0xFF] = M,
};

static const uint8_t dec2[256] = {
    [0x00 ... 0x03] = M, [0x1F] = M, [0x20 ... 0x23] = M, [0x40 ... 0x4F] = M,
    [0x80 ... 0x8F] = I_RELZ, [0x90 ... 0x9F] = M,
    [0xA3] = M, [0xA4] = M | I_B, [0xA5] = M, [0xAB] = M, [0xAC] = M | I_B, [0xAD] = M,
    [0xAF] = M, [0xB0 ... 0xB7] = M, [0xBA] = M | I_B, [0xBB ... 0xBF] = M,
    [0xC0] = M, [0xC1] = M, [0xC7] = M,
    /* MMX, SSE, SSE2 */
    [0x10 ... 0x17] = M | S, [0x18] = M | S, [0x28 ... 0x2F] = M | S,
    [0x50 ... 0x6F] = M | S, [0x70 ... 0x73] = M | S | I_B, [0x74 ... 0x76] = M | S,
    [0x77] = S, [0x78 ... 0x7F] = M | S, [0xAE] = M | S,
    [0xC2] = M | S | I_B, [0xC3] = M | S, [0xC4 ... 0xC6] = M | S | I_B,
    [0xD0 ... 0xFF] = M | S,
};

#define ALU6(b) [b] = h_alu_EG, [b + 1] = h_alu_EG, [b + 2] = h_alu_GE, \
                [b + 3] = h_alu_GE, [b + 4] = h_alu_AI, [b + 5] = h_alu_AI

static const X86Handler hnd1[256] = {
    ALU6(0x00), ALU6(0x08), ALU6(0x10), ALU6(0x18),
    ALU6(0x20), ALU6(0x28), ALU6(0x30), ALU6(0x38),
    [0x06] = h_push_sreg, [0x07] = h_pop_sreg, [0x0E] = h_push_sreg,
    [0x16] = h_push_sreg, [0x17] = h_pop_sreg, [0x1E] = h_push_sreg, [0x1F] = h_pop_sreg,
    [0x27] = h_daa, [0x2F] = h_das, [0x37] = h_aaa, [0x3F] = h_aas,
    [0x40 ... 0x47] = h_inc_r, [0x48 ... 0x4F] = h_dec_r,
    [0x50 ... 0x57] = h_push_r, [0x58 ... 0x5F] = h_pop_r,
    [0x60] = h_pusha, [0x61] = h_popa, [0x62] = h_bound, [0x63] = h_arpl,
    [0x68] = h_push_imm, [0x69] = h_imul_GEI, [0x6A] = h_push_imm, [0x6B] = h_imul_GEI,
    [0x6C] = h_ins, [0x6D] = h_ins, [0x6E] = h_outs, [0x6F] = h_outs,
    [0x70 ... 0x7F] = h_jcc,
    [0x80 ... 0x83] = h_grp1, [0x84] = h_test_EG, [0x85] = h_test_EG,
    [0x86] = h_xchg_EG, [0x87] = h_xchg_EG,
    [0x88] = h_mov_EG, [0x89] = h_mov_EG, [0x8A] = h_mov_GE, [0x8B] = h_mov_GE,
    [0x8C] = h_mov_ES, [0x8D] = h_lea, [0x8E] = h_mov_SE, [0x8F] = h_pop_E,
    [0x90] = h_nop, [0x91 ... 0x97] = h_xchg_ar, [0x98] = h_cbw, [0x99] = h_cwd,
    [0x9A] = h_call_far, [0x9B] = h_fwait, [0x9C] = h_pushf, [0x9D] = h_popf,
    [0x9E] = h_sahf, [0x9F] = h_lahf,
    [0xA0 ... 0xA3] = h_mov_moffs, [0xA4] = h_movs, [0xA5] = h_movs,
    [0xA6] = h_cmps, [0xA7] = h_cmps, [0xA8] = h_test_AI, [0xA9] = h_test_AI,
    [0xAA] = h_stos, [0xAB] = h_stos, [0xAC] = h_lods, [0xAD] = h_lods,
    [0xAE] = h_scas, [0xAF] = h_scas,
    [0xB0 ... 0xB7] = h_mov_r8_imm, [0xB8 ... 0xBF] = h_mov_r_imm,
    [0xC0] = h_shift, [0xC1] = h_shift, [0xC2] = h_ret, [0xC3] = h_ret,
    [0xC4] = h_lxs, [0xC5] = h_lxs, [0xC6] = h_mov_EI, [0xC7] = h_mov_EI,
    [0xC8] = h_enter, [0xC9] = h_leave, [0xCA] = h_retf, [0xCB] = h_retf,
    [0xCC] = h_int3, [0xCD] = h_int, [0xCE] = h_into, [0xCF] = h_iret,
    [0xD0 ... 0xD3] = h_shift, [0xD4] = h_aam, [0xD5] = h_aad, [0xD6] = h_salc,
    [0xD7] = h_xlat, [0xD8 ... 0xDF] = h_fpu,
    [0xE0 ... 0xE3] = h_loop, [0xE4] = h_in_imm, [0xE5] = h_in_imm,
    [0xE6] = h_out_imm, [0xE7] = h_out_imm, [0xE8] = h_call_rel, [0xE9] = h_jmp_rel,
    [0xEA] = h_jmp_far, [0xEB] = h_jmp_rel, [0xEC] = h_in_dx, [0xED] = h_in_dx,
    [0xEE] = h_out_dx, [0xEF] = h_out_dx,
    [0xF1] = h_int1, [0xF4] = h_hlt, [0xF5] = h_flagop, [0xF6] = h_grp3, [0xF7] = h_grp3,
    [0xF8 ... 0xFD] = h_flagop, [0xFE] = h_grp4, [0xFF] = h_grp5,
};

static const X86Handler hnd2[256] = {
    [0x00] = h_grp6, [0x01] = h_grp7, [0x02] = h_lar, [0x03] = h_lsl,
    [0x06] = h_clts, [0x08] = h_invd, [0x09] = h_invd, [0x1F] = h_nop_ev,
    [0x20] = h_mov_r_cr, [0x21] = h_mov_r_dr, [0x22] = h_mov_cr_r, [0x23] = h_mov_dr_r,
    [0x30] = h_wrmsr, [0x31] = h_rdtsc, [0x32] = h_rdmsr, [0x33] = h_rdpmc,
    [0x34] = h_sysenter, [0x35] = h_sysexit,
    [0x40 ... 0x4F] = h_cmov, [0x80 ... 0x8F] = h_jcc, [0x90 ... 0x9F] = h_setcc,
    [0xA0] = h_push_sreg, [0xA1] = h_pop_sreg, [0xA2] = h_cpuid, [0xA3] = h_bt_EG,
    [0xA4] = h_shld, [0xA5] = h_shld, [0xA8] = h_push_sreg, [0xA9] = h_pop_sreg,
    [0xAA] = h_rsm, [0xAB] = h_bt_EG, [0xAC] = h_shrd, [0xAD] = h_shrd,
    [0xAF] = h_imul_GE, [0xB0] = h_cmpxchg, [0xB1] = h_cmpxchg, [0xB2] = h_lxs,
    [0xB3] = h_bt_EG, [0xB4] = h_lxs, [0xB5] = h_lxs, [0xB6] = h_movzx, [0xB7] = h_movzx,
    [0xBA] = h_bt_EI, [0xBB] = h_bt_EG, [0xBC] = h_bsf, [0xBD] = h_bsr,
    [0xBE] = h_movsx, [0xBF] = h_movsx, [0xC0] = h_xadd, [0xC1] = h_xadd,
    [0xC7] = h_cmpxchg8b, [0xC8 ... 0xCF] = h_bswap,
};

static bool lockable(const X86Insn *i)
{
    if (i->mod == 3)
        return false;
    unsigned op = i->op;
    if (op < 0x40)
        return (op & 7) < 2 && (op & 0x38) != 0x38;
    switch (op) {
    case 0x80: case 0x81: case 0x82: case 0x83:
        return i->reg != 7;
    case 0x86: case 0x87:
        return true;
    case 0xF6: case 0xF7:
        return i->reg == 2 || i->reg == 3;
    case 0xFE: case 0xFF:
        return i->reg < 2;
    case 0x1AB: case 0x1B3: case 0x1BB: case 0x1B0: case 0x1B1:
    case 0x1C0: case 0x1C1: case 0x1C7:
        return true;
    case 0x1BA:
        return i->reg >= 5;
    default:
        return false;
    }
}

/* Instructions after which the next EIP is not the next byte: they end
 * a block (REP string instructions too, which resume themselves). */
static bool ends_block(const X86Insn *i)
{
    unsigned op = i->op;
    if (!i->fn || i->fn == h_ud || i->fn == h_gp0)
        return true;
    if ((op >= 0x70 && op <= 0x7F) || (op >= 0x180 && op <= 0x18F))
        return true;
    switch (op) {
    case 0x9A: case 0xC2: case 0xC3: case 0xCA: case 0xCB: case 0xCC: case 0xCD:
    case 0xCE: case 0xCF: case 0xE0: case 0xE1: case 0xE2: case 0xE3: case 0xE8:
    case 0xE9: case 0xEA: case 0xEB: case 0xF1: case 0xF4: case 0x134: case 0x135:
    case 0x1AA:
        return true;
    case 0xFF:
        return i->reg >= 2 && i->reg <= 5;
    case 0x6C: case 0x6D: case 0x6E: case 0x6F: case 0xA4: case 0xA5: case 0xA6:
    case 0xA7: case 0xAA: case 0xAB: case 0xAC: case 0xAD: case 0xAE: case 0xAF:
        return i->rep != 0;
    default:
        return false;
    }
}

/* Replace the generic handler by the specialised form for this operation,
 * size and operand kind, when there is one (x86-exec-fast.c). Two-register
 * forms are normalised to destination in rm, source in reg. */
static void specialise(X86Insn *i)
{
    unsigned op = i->op;
    unsigned wsz = (op & 1) ? (i->o32 ? 2 : 1) : 0;   /* byte/word/dword by the w bit */
    unsigned osz = i->o32 ? 2 : 1;
    bool mem = i->mod != 3;
    X86Handler h = NULL;
    if (op < 0x40 && (op & 7) < 6) {
        const X86Handler *row = x86_fast_alu[(op >> 3) & 7][wsz];
        switch (op & 6) {
        case 0:                 /* Eb,Gb / Ev,Gv */
            h = row[mem ? FF_MR : FF_RR];
            break;
        case 2:                 /* Gb,Eb / Gv,Ev */
            if (mem) {
                h = row[FF_RM];
            } else {
                uint8_t t = i->reg;
                i->reg = i->rm;
                i->rm = t;
                h = row[FF_RR];
            }
            break;
        default:                /* AL,Ib / eAX,Iz */
            i->rm = R_EAX;
            h = row[FF_RI];
            break;
        }
    } else if (op >= 0x80 && op <= 0x83) {
        h = x86_fast_alu[i->reg][op == 0x80 || op == 0x82 ? 0 : osz][mem ? FF_MI : FF_RI];
    } else if (op == 0x84 || op == 0x85) {
        h = x86_fast_test[wsz][mem ? FF_MR : FF_RR];
    } else if (op == 0xA8 || op == 0xA9) {
        i->rm = R_EAX;
        h = x86_fast_test[wsz][FF_RI];
    } else if ((op == 0xF6 || op == 0xF7) && i->reg < 2) {
        h = x86_fast_test[wsz][mem ? FF_MI : FF_RI];
    } else if (op == 0x88 || op == 0x89) {
        h = x86_fast_mov[wsz][mem ? FF_MR : FF_RR];
    } else if (op == 0x8A || op == 0x8B) {
        if (mem) {
            h = x86_fast_mov[wsz][FF_RM];
        } else {
            uint8_t t = i->reg;
            i->reg = i->rm;
            i->rm = t;
            h = x86_fast_mov[wsz][FF_RR];
        }
    } else if (op >= 0xB0 && op <= 0xBF) {
        i->rm = op & 7;
        h = x86_fast_mov[op >= 0xB8 ? osz : 0][FF_RI];
    } else if ((op == 0xC6 || op == 0xC7) && i->reg == 0) {
        h = x86_fast_mov[wsz][mem ? FF_MI : FF_RI];
    } else if (op == 0x1B6 || op == 0x1B7 || op == 0x1BE || op == 0x1BF) {
        h = x86_fast_movx[op >= 0x1BE][i->o32][op & 1][mem];
    } else if (op == 0x8D && mem) {
        h = i->o32 ? h_lea32 : h_lea16;
    } else if (op >= 0x40 && op <= 0x47) {
        h = i->o32 ? h_inc32_r : h_inc16_r;
    } else if (op >= 0x48 && op <= 0x4F) {
        h = i->o32 ? h_dec32_r : h_dec16_r;
    } else if (op >= 0x50 && op <= 0x57) {
        h = i->o32 ? h_push32_r : h_push16_r;
    } else if (op >= 0x58 && op <= 0x5F) {
        h = i->o32 ? h_pop32_r : h_pop16_r;
    } else if (op == 0xC0 || op == 0xC1 || (op >= 0xD0 && op <= 0xD3)) {
        i->imm &= 0x1F;
        h = x86_fast_shift[i->reg][wsz][mem ? 2 : op >= 0xD2 ? 1 : 0];
    } else if ((op == 0x69 || op == 0x6B) && i->o32) {
        h = mem ? h_imul32_GEI_m : h_imul32_GEI_r;
    } else if (op == 0x1AF && i->o32) {
        h = mem ? h_imul32_GE_m : h_imul32_GE_r;
    } else if ((op >= 0x70 && op <= 0x7F) || (op >= 0x180 && op <= 0x18F)) {
        h = x86_fast_jcc[op & 0xF];
    } else if (op == 0xE8) {
        h = i->o32 ? h_call32_rel : h_call16_rel;
    } else if (op == 0xC3) {
        h = i->o32 ? h_ret32 : h_ret16;
    } else if (op == 0xE2) {
        h = i->a32 ? h_loop32 : h_loop16;
    }
    if (h)
        i->fn = h;
}

#define NEED(n) do { if (p + (n) > avail) goto need; } while (0)

static inline uint32_t rd16(const uint8_t *b) { return b[0] | (b[1] << 8); }
static inline uint32_t rd32(const uint8_t *b)
{
    return b[0] | (b[1] << 8) | (b[2] << 16) | ((uint32_t)b[3] << 24);
}

unsigned x86_decode(const uint8_t *buf, unsigned avail, bool code32, X86Insn *i)
{
    unsigned p = 0;
    int segov = -1;
    bool osz = false, asz = false;
    memset(i, 0, sizeof(*i));
    i->base = i->index = EA_NONE;
    if (avail > 15)
        avail = 15;
    for (;;) {
        if (p >= avail)
            goto need;
        uint8_t b = buf[p];
        switch (b) {
        case 0x26: segov = S_ES; break;
        case 0x2E: segov = S_CS; break;
        case 0x36: segov = S_SS; break;
        case 0x3E: segov = S_DS; break;
        case 0x64: segov = S_FS; break;
        case 0x65: segov = S_GS; break;
        case 0x66: osz = true; break;
        case 0x67: asz = true; break;
        case 0xF0: i->lock = 1; break;
        case 0xF2: i->rep = 2; break;
        case 0xF3: i->rep = 1; break;
        default: goto opcode;
        }
        p++;
    }
opcode:
    i->o32 = code32 ^ osz;
    i->a32 = code32 ^ asz;
    i->amask = i->a32 ? 0xFFFFFFFFu : 0xFFFF;
    unsigned flags;
    uint16_t op = buf[p++];
    if (op == 0x0F) {
        NEED(1);
        op = 0x100 | buf[p++];
        flags = dec2[op & 0xFF];
        i->fn = hnd2[op & 0xFF];
        if (X86_UNLIKELY(flags & S)) {
            /* the last F2/F3 selects the operation, else 66 (which then
             * is no operand-size prefix) */
            i->mp = i->rep == 1 ? X86_MP_F3 : i->rep == 2 ? X86_MP_F2
                  : osz ? X86_MP_66 : X86_MP_NONE;
            i->fn = x86_simd_hnd[i->mp][op & 0xFF];
        }
    } else {
        flags = dec1[op];
        i->fn = hnd1[op];
    }
    i->op = op;
    i->seg = segov >= 0 ? segov : S_DS;
    if (flags & M) {
        NEED(1);
        uint8_t modrm = buf[p++];
        i->mod = modrm >> 6;
        i->reg = (modrm >> 3) & 7;
        i->rm = modrm & 7;
        if (i->mod != 3) {
            bool ss = false;
            if (!i->a32) {
                static const uint8_t b16[8] = { R_EBX, R_EBX, R_EBP, R_EBP, EA_NONE, EA_NONE, R_EBP, R_EBX };
                static const uint8_t x16[8] = { R_ESI, R_EDI, R_ESI, R_EDI, R_ESI, R_EDI, EA_NONE, EA_NONE };
                i->base = b16[i->rm];
                i->index = x16[i->rm];
                if (i->rm == 4 || i->rm == 5) {
                    i->base = i->index;
                    i->index = EA_NONE;
                }
                if (i->mod == 0 && i->rm == 6) {
                    i->base = EA_NONE;
                    NEED(2);
                    i->disp = rd16(buf + p);
                    p += 2;
                } else if (i->mod == 1) {
                    NEED(1);
                    i->disp = (uint32_t)(int8_t)buf[p++];
                } else if (i->mod == 2) {
                    NEED(2);
                    i->disp = rd16(buf + p);
                    p += 2;
                }
                ss = i->base == R_EBP;
            } else {
                unsigned rm = i->rm;
                if (rm == 4) {
                    NEED(1);
                    uint8_t sib = buf[p++];
                    unsigned base = sib & 7, idx = (sib >> 3) & 7;
                    i->scale = sib >> 6;
                    i->index = idx == 4 ? EA_NONE : idx;
                    if (base == 5 && i->mod == 0) {
                        i->base = EA_NONE;
                        NEED(4);
                        i->disp = rd32(buf + p);
                        p += 4;
                    } else {
                        i->base = base;
                    }
                } else if (rm == 5 && i->mod == 0) {
                    i->base = EA_NONE;
                    NEED(4);
                    i->disp = rd32(buf + p);
                    p += 4;
                } else {
                    i->base = rm;
                }
                if (i->mod == 1) {
                    NEED(1);
                    i->disp = (uint32_t)(int8_t)buf[p++];
                } else if (i->mod == 2) {
                    NEED(4);
                    i->disp = rd32(buf + p);
                    p += 4;
                }
                ss = i->base == R_ESP || i->base == R_EBP;
            }
            if (ss && segov < 0)
                i->seg = S_SS;
        }
    }
    unsigned ik = flags & 0x3F;
    if (ik == I_GRP3)
        ik = i->reg < 2 ? ((op & 1) ? I_Z : I_B) : I_NONE;
    switch (ik) {
    case I_B:
        NEED(1);
        i->imm = buf[p++];
        break;
    case I_BS: case I_RELB:
        NEED(1);
        i->imm = (uint32_t)(int8_t)buf[p++];
        break;
    case I_Z: case I_RELZ:
        if (i->o32) {
            NEED(4);
            i->imm = rd32(buf + p);
            p += 4;
        } else {
            NEED(2);
            i->imm = rd16(buf + p);
            if (ik == I_RELZ)
                i->imm = (uint32_t)(int16_t)i->imm;
            p += 2;
        }
        break;
    case I_W:
        NEED(2);
        i->imm = rd16(buf + p);
        p += 2;
        break;
    case I_WB:
        NEED(3);
        i->imm = rd16(buf + p);
        i->imm2 = buf[p + 2];
        p += 3;
        break;
    case I_AP:
        if (i->o32) {
            NEED(6);
            i->imm = rd32(buf + p);
            i->imm2 = (uint16_t)rd16(buf + p + 4);
            p += 6;
        } else {
            NEED(4);
            i->imm = rd16(buf + p);
            i->imm2 = (uint16_t)rd16(buf + p + 2);
            p += 4;
        }
        break;
    case I_MO:
        if (i->a32) {
            NEED(4);
            i->disp = rd32(buf + p);
            p += 4;
        } else {
            NEED(2);
            i->disp = rd16(buf + p);
            p += 2;
        }
        break;
    default:
        break;
    }
    i->len = (uint8_t)p;

    /* registers encoded in the opcode; segment register operands */
    if ((op >= 0x40 && op <= 0x5F) || (op >= 0x90 && op <= 0x97) || (op >= 0xB0 && op <= 0xBF)
        || (op >= 0x1C8 && op <= 0x1CF))
        i->reg = op & 7;
    switch (op) {
    case 0x06: case 0x07: case 0x0E: case 0x16: case 0x17: case 0x1E: case 0x1F:
        i->reg = (op >> 3) & 3;
        break;
    case 0x1A0: case 0x1A1: i->reg = S_FS; break;
    case 0x1A8: case 0x1A9: i->reg = S_GS; break;
    default: break;
    }
    if (op >= 0xD0 && op <= 0xD1)
        i->imm = 1;
    i->end = (uint16_t)p;
    i->ends = ends_block(i);
    if (!i->fn)
        i->fn = h_ud;
    if (i->lock && !lockable(i)) {
        i->fn = h_lock_ud;
        i->ends = 1;
        return p;
    }
    if (!i->lock)
        specialise(i);
    return p;
need:
    /* more than 15 bytes: #GP(0); else the caller must supply more */
    if (avail == 15) {
        memset(i, 0, sizeof(*i));
        i->base = i->index = EA_NONE;
        i->fn = h_gp0;
        i->len = 15;
        i->end = 15;
        i->ends = 1;
        return 15;
    }
    return 0;
}

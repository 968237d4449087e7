// The A64 encoders against binutils: every line of TABLE is assembled by aarch64-linux-gnu-as
// and disassembled by objdump once (fixtures/a64-encodings.txt, recorded with the commands in
// its header); the test compares our word with the recorded one, so it needs no binutils.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as a from './a64.js';

/** [the instruction as written for `as` (branch targets relative to `.`), our encoding] */
export const TABLE: [string, number][] = [
  ['movz x0, #0x1234', a.movz(0, 0x1234)],
  ['movz x8, #0xffff, lsl #16', a.movz(8, 0xffff, 1)],
  ['movz x3, #0x1, lsl #48', a.movz(3, 1, 3)],
  ['movk x1, #0xbeef, lsl #32', a.movk(1, 0xbeef, 2)],
  ['movk x30, #0x7', a.movk(30, 7)],
  ['movn x0, #0x0', a.movn(0, 0)],
  ['movn x2, #0x63', a.movn(2, 99)],
  ['mov x12, x0', a.mov(12, 0)],
  ['mov x0, x19', a.mov(0, 19)],
  ['mov x2, sp', a.addImm(2, a.SP, 0)],
  ['mov x9, sp', a.addImm(9, a.SP, 0)],
  ['add x0, x0, #0x1', a.addImm(0, 0, 1)],
  ['sub sp, sp, #0x80', a.subImm(a.SP, a.SP, 0x80)],
  ['neg x0, x0', a.neg(0, 0)],
  ['neg x1, x0', a.neg(1, 0)],
  ['cmp x0, #0x0', a.cmpImm(0, 0)],
  ['cmn x0, #0xa', a.cmnImm(0, 10)],
  ['cmp x0, x12', a.cmp(0, 12)],
  ['csel x0, x1, xzr, lt', a.csel(0, 1, a.XZR, 'lt')],
  ['csel x3, x4, x5, eq', a.csel(3, 4, 5, 'eq')],
  ['and sp, x9, #0xfffffffffffffff0', a.alignSp16(9)],
  ['ubfx w0, w0, #8, #8', a.ubfxW(0, 0, 8, 8)],
  ['str x9, [sp]', a.strX(9, a.SP, 0)],
  ['str x0, [x9, #8]', a.strX(0, 9, 8)],
  ['ldr x16, [x9]', a.ldrX(16, 9, 0)],
  ['ldr w0, [x9, #16]', a.ldrW(0, 9, 16)],
  ['svc #0x0', a.svc()],
  ['br x16', a.br(16)],
  ['ret', a.ret()],
  ['b .', a.b(0)],
  ['b .+12', a.b(3)],
  ['b .-8', a.b(-2)],
  ['b.eq .+8', a.bCond('eq', 2)],
  ['b.ne .-4', a.bCond('ne', -1)],
  ['b.lt .+16', a.bCond('lt', 4)],
  ['cbz x0, .+8', a.cbz(0, 2)],
  ['cbnz x0, .+20', a.cbnz(0, 5)],
  ['cbz x0, .-12', a.cbz(0, -3)],
  ['tbnz x0, #63, .+12', a.tbnz(0, 63, 3)],
  ['tbz x0, #63, .+16', a.tbz(0, 63, 4)],
  ['tbz w1, #3, .+8', a.tbz(1, 3, 2)],
];

/** The words objdump printed, in order (lines "   4:\td2800000 \tmov\tx0, #0x1234"). */
function recorded(): number[] {
  const text = readFileSync(join(import.meta.dirname, 'fixtures', 'a64-encodings.txt'), 'utf8');
  return [...text.matchAll(/^\s*[0-9a-f]+:\s+([0-9a-f]{8})\s/gm)].map((m) => parseInt(m[1], 16));
}

describe('a64 encoders', () => {
  it('match binutils for every instruction of the table', () => {
    const words = recorded();
    expect(words).toHaveLength(TABLE.length);
    TABLE.forEach(([text, ours], i) => expect({ text, word: ours.toString(16).padStart(8, '0') })
      .toEqual({ text, word: words[i].toString(16).padStart(8, '0') }));
  });

  it('movImm picks movz/movk/movn sequences that give the value', () => {
    expect(a.movImm(0, 0)).toEqual([a.movz(0, 0)]);
    expect(a.movImm(0, 0x1234)).toEqual([a.movz(0, 0x1234)]);
    expect(a.movImm(0, -1)).toEqual([a.movn(0, 0)]);
    expect(a.movImm(0, -100)).toEqual([a.movn(0, 99)]);
    expect(a.movImm(5, 0xffff00000001n)).toEqual([a.movz(5, 1), a.movk(5, 0xffff, 2)]);
    expect(a.movImm(1, 0x0000aaaa0000bbbbn)).toEqual([a.movz(1, 0xbbbb), a.movk(1, 0xaaaa, 2)]);
  });

  it('resolves forward and backward labels and refuses an unplaced one', () => {
    const code = new a.Asm().label('top').branch('end', (w) => a.cbz(0, w)).emit(a.svc()).branch('top', a.b).label('end').bytes();
    expect([0, 4, 8].map((o) => code.readUInt32LE(o))).toEqual([a.cbz(0, 3), a.svc(), a.b(-2)]);
    expect(() => new a.Asm().branch('nowhere', a.b).bytes()).toThrow(/never placed/);
    expect(() => a.movz(32, 0)).toThrow(/register/);
  });
});

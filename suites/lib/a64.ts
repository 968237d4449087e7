// A tiny A64 (aarch64) assembler for the probes' machine-code children (arm64stub.ts): the
// few instructions they need, each a pure encoder returning the 32-bit word, and an Asm that
// resolves forward branches by label. The encodings are checked against binutils' own
// (aarch64-linux-gnu-as + objdump, recorded in fixtures/a64-encodings.txt) by a64.test.ts.
// Registers are numbers 0-30; 31 is xzr or sp depending on the instruction (as in the ISA).

const reg = (r: number): number => {
  if (!Number.isInteger(r) || r < 0 || r > 31) throw new Error(`a64: register ${r} out of range 0-31`);
  return r;
};
const u = (v: number, bits: number, what: string): number => {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new Error(`a64: ${what} ${v} does not fit ${bits} bits`);
  return v;
};
/** A signed branch offset in instructions, as a `bits`-wide two's complement field. */
const off = (words: number, bits: number): number => {
  if (!Number.isInteger(words) || words < -(2 ** (bits - 1)) || words >= 2 ** (bits - 1)) throw new Error(`a64: branch offset ${words} out of range`);
  return words & (2 ** bits - 1);
};

export const SP = 31;
export const XZR = 31;
/** Condition codes for b.cond / csel. */
export const COND = { eq: 0x0, ne: 0x1, ge: 0xa, lt: 0xb, gt: 0xc, le: 0xd } as const;
export type Cond = keyof typeof COND;

/** movz xd, #imm16, lsl #(16*hw) */
export const movz = (rd: number, imm16: number, hw = 0): number =>
  (0xd2800000 | (u(hw, 2, 'hw') << 21) | (u(imm16, 16, 'imm16') << 5) | reg(rd)) >>> 0;
/** movk xd, #imm16, lsl #(16*hw): keeps the other bits */
export const movk = (rd: number, imm16: number, hw = 0): number =>
  (0xf2800000 | (u(hw, 2, 'hw') << 21) | (u(imm16, 16, 'imm16') << 5) | reg(rd)) >>> 0;
/** movn xd, #imm16: xd = ~imm16 (small negative numbers) */
export const movn = (rd: number, imm16: number, hw = 0): number =>
  (0x92800000 | (u(hw, 2, 'hw') << 21) | (u(imm16, 16, 'imm16') << 5) | reg(rd)) >>> 0;
/** mov xd, xm (orr xd, xzr, xm) */
export const mov = (rd: number, rm: number): number => (0xaa0003e0 | (reg(rm) << 16) | reg(rd)) >>> 0;
/** add xd|sp, xn|sp, #imm12 (mov xd, sp is add xd, sp, #0) */
export const addImm = (rd: number, rn: number, imm12: number): number =>
  (0x91000000 | (u(imm12, 12, 'imm12') << 10) | (reg(rn) << 5) | reg(rd)) >>> 0;
/** sub xd|sp, xn|sp, #imm12 */
export const subImm = (rd: number, rn: number, imm12: number): number =>
  (0xd1000000 | (u(imm12, 12, 'imm12') << 10) | (reg(rn) << 5) | reg(rd)) >>> 0;
/** neg xd, xm (sub xd, xzr, xm) */
export const neg = (rd: number, rm: number): number => (0xcb0003e0 | (reg(rm) << 16) | reg(rd)) >>> 0;
/** cmp xn, #imm12 (subs xzr, xn, #imm12) */
export const cmpImm = (rn: number, imm12: number): number =>
  (0xf100001f | (u(imm12, 12, 'imm12') << 10) | (reg(rn) << 5)) >>> 0;
/** cmn xn, #imm12 (adds xzr, xn, #imm12): compares with -imm12 */
export const cmnImm = (rn: number, imm12: number): number =>
  (0xb100001f | (u(imm12, 12, 'imm12') << 10) | (reg(rn) << 5)) >>> 0;
/** cmp xn, xm (subs xzr, xn, xm) */
export const cmp = (rn: number, rm: number): number => (0xeb00001f | (reg(rm) << 16) | (reg(rn) << 5)) >>> 0;
/** csel xd, xn, xm, cond: xd = cond ? xn : xm */
export const csel = (rd: number, rn: number, rm: number, cond: Cond): number =>
  (0x9a800000 | (reg(rm) << 16) | (COND[cond] << 12) | (reg(rn) << 5) | reg(rd)) >>> 0;
/** and sp, xn, #~15: round a stack pointer down to 16 bytes (logical immediate N=1 immr=60 imms=59) */
export const alignSp16 = (rn: number): number => (0x92000000 | (1 << 22) | (60 << 16) | (59 << 10) | (reg(rn) << 5) | SP) >>> 0;
/** ubfx wd, wn, #lsb, #width (ubfm, 32-bit): e.g. WEXITSTATUS = ubfx w0, w0, #8, #8 */
export const ubfxW = (rd: number, rn: number, lsb: number, width: number): number =>
  (0x53000000 | (u(lsb, 5, 'lsb') << 16) | (u(lsb + width - 1, 5, 'msb') << 10) | (reg(rn) << 5) | reg(rd)) >>> 0;
/** str xt, [xn|sp, #imm] (unsigned offset, a multiple of 8) */
export const strX = (rt: number, rn: number, imm = 0): number =>
  (0xf9000000 | (u(imm / 8, 12, 'offset/8') << 10) | (reg(rn) << 5) | reg(rt)) >>> 0;
/** ldr xt, [xn|sp, #imm] (unsigned offset, a multiple of 8) */
export const ldrX = (rt: number, rn: number, imm = 0): number =>
  (0xf9400000 | (u(imm / 8, 12, 'offset/8') << 10) | (reg(rn) << 5) | reg(rt)) >>> 0;
/** ldr wt, [xn|sp, #imm] (unsigned offset, a multiple of 4; zero-extends into xt) */
export const ldrW = (rt: number, rn: number, imm = 0): number =>
  (0xb9400000 | (u(imm / 4, 12, 'offset/4') << 10) | (reg(rn) << 5) | reg(rt)) >>> 0;
/** svc #imm16: the syscall (number in x8, arguments x0-x5, result in x0) */
export const svc = (imm16 = 0): number => (0xd4000001 | (u(imm16, 16, 'imm16') << 5)) >>> 0;
/** br xn */
export const br = (rn: number): number => (0xd61f0000 | (reg(rn) << 5)) >>> 0;
/** ret (to x30) */
export const ret = (): number => 0xd65f03c0;
/** b by `words` instructions (b . is b(0)) */
export const b = (words: number): number => (0x14000000 | off(words, 26)) >>> 0;
/** b.cond by `words` instructions */
export const bCond = (cond: Cond, words: number): number => (0x54000000 | (off(words, 19) << 5) | COND[cond]) >>> 0;
/** cbz xt, by `words` instructions */
export const cbz = (rt: number, words: number): number => (0xb4000000 | (off(words, 19) << 5) | reg(rt)) >>> 0;
/** cbnz xt, by `words` instructions */
export const cbnz = (rt: number, words: number): number => (0xb5000000 | (off(words, 19) << 5) | reg(rt)) >>> 0;
/** tbz/tbnz xt, #bit, by `words` instructions (tbnz x0, #63: branch when negative) */
export const tbz = (rt: number, bit: number, words: number): number =>
  (0x36000000 | ((u(bit, 6, 'bit') >> 5) << 31) | ((bit & 31) << 19) | (off(words, 14) << 5) | reg(rt)) >>> 0;
export const tbnz = (rt: number, bit: number, words: number): number => (tbz(rt, bit, words) | 0x01000000) >>> 0;

/**
 * The shortest movz/movn/movk sequence that sets xd to a 64-bit value (two's complement for
 * negative numbers): movz of the first non-zero 16-bit half and movk of the others, or movn
 * when the value is a small negative number.
 */
export function movImm(rd: number, value: number | bigint): number[] {
  const v = BigInt.asUintN(64, BigInt(value));
  const inverted = BigInt.asUintN(64, ~v);
  if (inverted < 0x10000n) return [movn(rd, Number(inverted))];
  const halves = [0, 1, 2, 3].map((i) => Number((v >> BigInt(16 * i)) & 0xffffn));
  const words: number[] = [];
  halves.forEach((h, i) => {
    if (h === 0) return;
    words.push(words.length === 0 ? movz(rd, h, i) : movk(rd, h, i));
  });
  return words.length ? words : [movz(rd, 0)];
}

type Fixup = (here: number, target: number) => number;

/** Instructions in order, with labels for branches whose target comes later. */
export class Asm {
  private words: (number | { fix: Fixup; label: string })[] = [];
  private labels = new Map<string, number>();

  /** Append encoded instructions. */
  emit(...words: number[]): this {
    this.words.push(...words);
    return this;
  }

  /** Append a branch to `label`: `fix(offset in instructions)` encodes it once the label is placed. */
  branch(label: string, fix: (words: number) => number): this {
    this.words.push({ label, fix: (here, target) => fix(target - here) });
    return this;
  }

  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`a64: label ${name} placed twice`);
    this.labels.set(name, this.words.length);
    return this;
  }

  /** Set x-register `rd` to `value`. */
  mov(rd: number, value: number | bigint): this {
    return this.emit(...movImm(rd, value));
  }

  /** x0-x5 = args (numbers or addresses), x8 = nr, svc #0: the result is in x0. */
  syscall(nr: number, args: (number | bigint)[] = []): this {
    if (args.length > 6) throw new Error('a64: a syscall takes at most six arguments');
    args.forEach((a, i) => this.mov(i, a));
    return this.mov(8, nr).emit(svc());
  }

  bytes(): Buffer {
    const out = Buffer.alloc(4 * this.words.length);
    this.words.forEach((w, i) => {
      let word: number;
      if (typeof w === 'number') word = w;
      else {
        const target = this.labels.get(w.label);
        if (target === undefined) throw new Error(`a64: label ${w.label} never placed`);
        word = w.fix(i, target);
      }
      out.writeUInt32LE(word >>> 0, 4 * i);
    });
    return out;
  }
}

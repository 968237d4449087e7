// The arm64 stub code byte for byte against binutils' disassembly of it (fixtures/a64-stubs.txt,
// recorded with aarch64-linux-gnu-objdump -D -b binary -m aarch64; the file is the readable
// review of the code too). Only builders whose code holds no addresses of this process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCode, trampolineCode } from './arm64-clone3.js';
import * as s from './arm64stub.js';

const BUILT: Record<string, () => Buffer> = {
  trampoline: trampolineCode,
  exit_group_7: () => exitCode(7, false),
  thread_exit_0: () => exitCode(0, true),
  'syscallThenExitCode(64, [1, 0x1234, 8])': () => s.syscallThenExitCode(64, [1, 0x1234, 8]),
  "syscallThenExitCode(167, [39, 0, 0, 0, 0], 'result')": () => s.syscallThenExitCode(167, [39, 0, 0, 0, 0], 'result'),
  'ioctlThenExitCode(3, 0xc050ff0b, 1)': () => s.ioctlThenExitCode(3, 0xc050ff0b, 1),
  "stepsCode([{ nr: 56, args: [-100, 0x4000, 0] }, { nr: 63, args: ['prev', 0x5000, 64] }])":
    () => s.stepsCode([{ nr: 56, args: [-100, 0x4000, 0] }, { nr: 63, args: ['prev', 0x5000, 64] }]),
  'syscallSucceedsThenExitCode(147, [0, 0, 0], 210)': () => s.syscallSucceedsThenExitCode(147, [0, 0, 0], 210),
};

/** name -> the words objdump printed for it */
function recorded(): Map<string, number[]> {
  const text = readFileSync(join(import.meta.dirname, 'fixtures', 'a64-stubs.txt'), 'utf8');
  const blocks = new Map<string, number[]>();
  let words: number[] | null = null;
  for (const line of text.split('\n')) {
    const head = /^== (.*)$/.exec(line);
    if (head) blocks.set(head[1], (words = []));
    const w = /^\s*[0-9a-f]+:\s+([0-9a-f]{8})\s/.exec(line);
    if (w && words) words.push(parseInt(w[1], 16));
  }
  return blocks;
}

const wordsOf = (b: Buffer) => Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32LE(4 * i));

describe('arm64 stubs', () => {
  const fixture = recorded();
  it('the fixture holds every builder of the table', () => expect([...fixture.keys()]).toEqual(Object.keys(BUILT)));
  for (const [name, build] of Object.entries(BUILT))
    it(`${name} is the code binutils disassembled`, () => expect(wordsOf(build()).map((w) => w.toString(16))).toEqual(fixture.get(name)!.map((w) => w.toString(16))));
});

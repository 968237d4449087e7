// The phase split of a guest cell from recorded consoles (vm/fixtures): kernel timestamps for
// the guest's own steps, the host's arrival times for qemu's start and the shutdown.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { consolePhases } from './phases.js';

const fixture = (n: string) => readFileSync(new URL(`./fixtures/${n}`, import.meta.url), 'latin1');

describe('consolePhases', () => {
  it('splits a run with suite and case markers (bookworm 6.1, TCG)', () => {
    const p = consolePhases(fixture('warn-taint-markers-6.1.log'), { kernelStartMs: 1_200, scriptReturnedMs: 33_000 }, 35_500);
    expect(p).toEqual({
      qemuStartMs: 1_200,
      kernelInitMs: 3_754,              // [3.753793] Run /init as init process
      virtmeInitMs: 31_519 - 3_754,     // .. [31.518835] virtme-init: starting script
      commandStartMs: 31_827 - 31_519,  // .. [31.826770] pidfd-matrix: suite start
      nodeReadyMs: 31_828 - 31_827,     // .. [31.827590] the first case marker
      suiteMs: 32_252 - 31_828,         // .. [32.251731] pidfd-matrix: suite end
      shutdownMs: 2_500 + (32_264 - 32_252), // host: exit after "script returned" + the guest's last step
    });
  });

  it('a console without markers or host marks leaves those phases unknown, never guessed', () => {
    const p = consolePhases(fixture('clean-boot-6.1.log'), undefined, 25_000);
    expect(p).toMatchObject({ qemuStartMs: null, kernelInitMs: 3_041, virtmeInitMs: 20_844 - 3_041, commandStartMs: null, nodeReadyMs: null, suiteMs: null, shutdownMs: null });
  });
});

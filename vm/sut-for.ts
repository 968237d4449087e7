// Which vm/ implementation runs a cell, from the boot target its source kind names
// (kernels/sources/: host, guest, or container with its axes). One table, keyed by the tag.
import type { BootTarget, SutTag } from '../kernels/sources/types.js';
import type { Progress } from '../kernels/userspace.js';
import { HostSut, VngSut, type Sut, type VngSutOptions } from './sut.js';
import { ContainerSut } from './container-sut.js';

/** What a guest needs to boot (its kernel, accelerator, command line, size, root). */
export type GuestOptions = Partial<VngSutOptions>;

const SUTS: { [K in SutTag]: (t: Extract<BootTarget, { sut: K }>, g: GuestOptions, progress?: Progress) => Sut } = {
  host: () => new HostSut(),
  container: (t, _g, progress) => new ContainerSut(t.axes, { progress }),
  guest: (_t, g) => {
    if (!g.kimg || !g.accel) throw new Error('a guest needs a kernel image and an accelerator');
    return new VngSut({ ...g, kimg: g.kimg, accel: g.accel });
  },
};

/** The system under test for a boot target. */
export function sutFor(t: BootTarget, guest: GuestOptions, progress?: Progress): Sut {
  return (SUTS[t.sut] as (t: BootTarget, g: GuestOptions, p?: Progress) => Sut)(t, guest, progress);
}

// An arm64 cell's accelerator: TCG whatever the run chose for its x86_64 cells, and a clear
// error for --accel kvm before anything is fetched.
import { describe, expect, it } from 'vitest';
import { parseMatrix } from '../../kernels/matrix.js';
import { cellAccel, foreignAccelProblem, FOREIGN_ACCEL, prepareMatrix } from './run-matrix.js';

const [x86, arm, host] = parseMatrix(`kernels:
  - {id: trixie, source: debian, suite: trixie, package: linux-image-amd64}
  - {id: trixie-arm64, source: debian, suite: trixie, package: linux-image-arm64, arch: arm64, root: trixie}
  - {id: host, source: host}
`, '/x/m.yaml').kernels;

describe('the accelerator of an arm64 cell', () => {
  it('is TCG even when the run chose KVM for its x86_64 guests', () => {
    const kvm = { accel: 'kvm' as const, reason: 'probe' };
    expect(cellAccel(arm, kvm)).toBe('tcg');
    expect(cellAccel(x86, kvm)).toBe('kvm');
    expect(FOREIGN_ACCEL.accel).toBe('tcg');
  });
  it('--accel kvm with an arm64 cell is refused naming the cell and the fix; auto and tcg are not', () => {
    expect(foreignAccelProblem([x86, arm], 'kvm')).toMatch(/'trixie-arm64' \(arch: arm64\) cannot use KVM.*use --accel tcg/);
    expect(foreignAccelProblem([x86, arm], 'auto')).toBeNull();
    expect(foreignAccelProblem([x86, arm], 'tcg')).toBeNull();
    expect(foreignAccelProblem([x86, host], 'kvm')).toBeNull();
  });
  it('prepareMatrix stops on it before fetching anything', async () => {
    await expect(prepareMatrix([arm], 'kvm', () => {})).rejects.toThrow(/cannot use KVM on this x86_64 host/);
  });
});

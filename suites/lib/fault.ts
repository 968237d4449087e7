// Test-only fault injection: with PIDFD_MATRIX_FAULT_CASE=<feature/case> and
// PIDFD_MATRIX_FAULT_CMD=<shell command>, the command runs (sh -c, waited for) right after that
// case's start marker. The guest tests use it to make a real kernel taint or WARN while a
// known case runs (harness/judge/health.ts must then make exactly that case an error).
import { reap, spawnChild } from './process.js';

export function runFaultCommand(caseId: string): void {
  const cmd = process.env.PIDFD_MATRIX_FAULT_CMD;
  if (!cmd || process.env.PIDFD_MATRIX_FAULT_CASE !== caseId) return;
  reap(spawnChild(['sh', '-c', cmd]));
}

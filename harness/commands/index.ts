// The subcommands of `pidfd-matrix`, in the order `--help` lists them.
import type { Command } from './types.js';
import { probeCommand } from './probe.js';
import { kernelsCommand } from './kernels.js';

export const commands: Command[] = [probeCommand, kernelsCommand];

// The subcommands of `pidfd-matrix`, in the order `--help` lists them.
import type { Command } from './types.js';
import { probeCommand } from './probe.js';
import { kernelsCommand } from './kernels.js';
import { matrixCommand } from './matrix.js';
import { benchCommand } from './bench.js';
import { reportCommand } from './report.js';
import { rerunCommand } from './rerun.js';
import { compareCommand } from './compare.js';
import { catalogCommand } from './catalog.js';
import { kcidbCommand } from './kcidb.js';
import { bisectCommand, bisectStepCommand } from './bisect.js';

export const commands: Command[] = [probeCommand, matrixCommand, kernelsCommand, benchCommand, reportCommand, compareCommand, rerunCommand, catalogCommand, kcidbCommand, bisectCommand, bisectStepCommand];

// The errors a matrix file, a kernel fetch or a missing tool raise for bad input or setup: the
// commands that load the matrix print them without a stack trace and exit 2.
import { MatrixError, defaultMatrixFile } from '../../kernels/matrix.js';
import { FetchError } from '../../kernels/fetch.js';
import { AptError } from '../../kernels/apt.js';
import { ToolsMissing } from '../../vm/tools.js';

/** Prints `e` and returns 2 when it is such an error; returns null for anything else (rethrow it). */
export function reportInputError(command: string, matrixFile: string | undefined, e: unknown): number | null {
  if (e instanceof FetchError) {
    console.error(`pidfd-matrix ${command}: ${matrixFile ?? defaultMatrixFile()}: ${e.message}`);
    return 2;
  }
  if (e instanceof MatrixError || e instanceof AptError || e instanceof ToolsMissing) {
    console.error(`pidfd-matrix ${command}: ${e.message}`);
    return 2;
  }
  return null;
}

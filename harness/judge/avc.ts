// AVC parsing lives with the probes that capture AVCs (suites/lib/avc.ts); the harness reads
// the same records when it renders reports.
export * from '../../suites/lib/avc.js';

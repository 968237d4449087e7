// The results.json schema: one file per kernel cell. Everything else (JUnit, HTML, markdown,
// the terminal table, `rerun`) is regenerated from these files, so they carry all provenance.
import type { Status } from './status.js';
import type { Observation, ObservedFacts } from '../suites/lib/observation.js';

export type { Observation } from '../suites/lib/observation.js';

/** The facts the guest observed, plus the version the host derived from them (harness/judge/version.ts). */
export interface KernelFacts extends ObservedFacts {
  version: [number, number, number];
  /** Where `version` came from: 'uname -r', or the distro's note of the stable version. */
  versionSource?: string;
  /** Container cells: the kernel is the host's (a container has none of its own). */
  kernelOf?: 'host';
  /** Container cells: the image's Debian suite and exact versions of libc6 and its neighbours. */
  userspace?: { suite: string; packages: Record<string, string> };
  /**
   * The commit oracle's answers (harness/judge/commit-oracle.ts), asked on the host before judging:
   * does this kernel carry each upstream commit the catalog names, and what decided. Absent in
   * results written before it: those are judged by the version rule alone.
   */
  commits?: CommitAnswers;
  /** Where the kernel came from, as far as it can be proven (kernels/identity.ts). */
  identity?: KernelIdentity;
}

/** One (kernel, test) result. `id` is unique within a cell: `<feature>/<case>`. */
export interface CaseResult {
  id: string;
  feature: string;
  case: string;
  area: string;
  title: string;
  status: Status;
  /** Why: skip/xfail/xpass reason, failure message (expected vs observed), error text. */
  reason: string;
  /** Which catalog answer the kernel was expected to give, and that answer. */
  expected: 'with' | 'without' | null;
  expectedAnswer: Observation | Observation[] | null;  // a list: any of these answers
  observed: Observation;
  durationMs: number;
  /** One command that reruns exactly this test on this kernel. */
  rerun: string;
  /** Set when a known-issues entry changed the status (xfail/xpass). */
  knownIssue?: { reason: string; link?: string; expires?: string };
  /** Extra text for JUnit system-out (AVC records etc.). */
  log?: string;
  /** `--repeat N`: how many runs answered and each distinct answer with its count (harness/run/repeat.ts). */
  repeat?: RepeatSummary;
  /** Set when kernel health turned this case into an error: the probe's own verdict. */
  preHealth?: { status: Status; reason: string; log?: string };
}

/** One kernel report (Oops, BUG, WARN, lockdep, RCU stall, hung task, new taint) during a cell. */
export interface HealthFinding {
  kind: 'oops' | 'bug' | 'warning' | 'lockdep' | 'rcu-stall' | 'hung-task' | 'lockup' | 'panic' | 'taint';
  headline: string;
  /** The case that was running (between its markers), or null when none can own it. */
  case: string | null;
  when: 'boot' | 'case' | 'between' | 'after';
  /** The console lines of the report ('' for a taint value). */
  excerpt: string;
}

/** What the harness read about the kernel's health during a cell, and what it found. */
export interface KernelHealth {
  checked: string;
  findings: HealthFinding[];
}

export interface CellProvenance {
  harnessRev: string | null;   // git describe of this checkout
  node: string;
  command: string;             // the command that produced this cell
  qemu?: string | null;
  vng?: string | null;
  kernelSource?: string;       // matrix source description (debian suite/package@version, path, url+sha256)
  /** Debian kernels: each .deb's exact version and sha256 (from the signed archive index). */
  kernelPackages?: { package: string; version: string; sha256: string; suite?: string }[];
  kernelCmdline?: string;
  /** sha256 of the kernel's build config (uncompressed text); null when the kernel ships none. */
  configHash?: string | null;
  /** The config file hashed: /proc/config.gz, a package's /boot/config-*, a build's .config. */
  configSource?: string | null;
  /** A guest booted on a distro's own root (matrix `root:`): which one, exactly. */
  guestRoot?: { suite: string; userspaceId: string | null; libc6: string | null };
}

/** One kernel cell: a host run, or one guest boot of the matrix. */
export interface CellResult {
  schema: 1;
  kernelId: string;            // matrix id, no dots ("host", "bookworm", ...)
  mode: 'host' | 'guest' | 'container';
  accel: 'kvm' | 'tcg' | null;
  lsm: string | null;          // matrix lsm axis ("selinux") or null
  facts: KernelFacts | null;   // null when the guest never got to run the suite
  startedAt: string;           // ISO time
  durationMs: number;
  hostname: string;
  /** Cell-level error (boot failure, panic, timeout, infrastructure): no cases ran. */
  error: { reason: string; consoleExcerpt?: string } | null;
  consoleLog?: string | null;  // path of the guest console log, relative to this cell's own dir (reports/<id>/)
  /** Boots that died before the command started and were retried: reason and kept console. */
  earlierAttempts?: { reason: string; consoleLog: string }[];
  provenance: CellProvenance;
  /** /proc/sys/kernel/tainted when the suite started and ended (absent in older files). */
  taint?: { start: number; end: number };
  /** Kernel health as judged from the console and taint (harness/judge/health.ts). */
  kernelHealth?: KernelHealth;
  rerun: string;               // one command that reruns the whole cell
  /** The run's --test selection (feature or feature/case ids); absent: the whole catalog. */
  tests?: string[];
  /** Container cells: the userspace, seccomp and runtime axes and what they resolved to. */
  container?: ContainerInfo;
  cases: CaseResult[];
}

// The types below are part of results.json. They live here, not with the code that fills them
// (repeat.ts, commits.ts, vm/container-sut.ts, kernels/identity.ts), so the schema imports nothing above it.

/** One distinct answer of a repeated case and how many runs gave it. */
export interface RepeatAnswer {
  count: number;
  status: CaseResult['status'];
  /** The observation in the catalog's terms (the compared keys), or the error's reason. */
  answer: Observation | string;
  /** The first run that gave it (0-based). */
  firstRun: number;
}

export interface RepeatSummary { runs: number; planned: number; answers: RepeatAnswer[] }

/** What a container cell ran on: recorded in results.json (cell.container) and JUnit properties. */
export interface ContainerInfo {
  userspace: string;
  image: string;
  /** Identity of the root the image holds (suite, recipe, exact package set). */
  userspaceId: string | null;
  /** Exact versions of libc6 and its neighbours in the image (dpkg status of the root). */
  packages: Record<string, string>;
  /** 'default' (Docker's built-in profile), 'unconfined', or the profile file's path. */
  seccomp: string;
  seccompSha256?: string;
  runtime: string;
  runtimeVersion: string | null;
  docker: string | null;
  /** The container's kernel: always the host's. */
  kernel: 'host';
  /** The host node binary the suite ran with, and what it reported inside the container. */
  node?: { binary: string; check: string };
}

/** Where a kernel came from (kernels/identity.ts proves it). */
export const IDENTITY_KINDS = ['debian', 'tarball', 'git', 'unproven'] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

export interface KernelIdentity {
  kind: IdentityKind;
  /** debian: the package (linux-image-6.1.0-50-amd64 or linux-source-6.12), its version, the .deb's sha256, the suite. */
  package?: string;
  version?: string;
  sha256?: string | null;
  suite?: string;
  /** tarball: its file name (and sha256 above). */
  name?: string;
  /** git: a public repository name ("unifreq/linux-5.4.y"), never a path; the commit and `git describe`. */
  repo?: string;
  commit?: string;
  describe?: string;
  /** git, a tree with no .git: the folder of the commit it is, and the git tree id of its content. */
  subdir?: string;
  tree?: string;
  /** git: patches applied in order on the commit (a point release from a snapshot and the stable diffs), `owner/name@commit:path` each. */
  patches?: string[];
  /** The tree's Makefile version ("6.12.117"); absent for a binary package. */
  makefile?: string;
  /** sha256 of each pidfd source present in the tree (absent files omitted). */
  pidfd_sources?: Record<string, string>;
  proven: boolean;
  why: string;
}

/** An oracle's answer about one commit: has it, lacks it, or cannot tell (null), and what decided. */
export interface CommitAnswer { has: boolean | null; by: string }
export type CommitAnswers = Record<string, CommitAnswer>;

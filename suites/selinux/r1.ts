// The R1 guard's reading of one AVC capture window, kept apart from the probes (no koffi) so
// it is tested on recorded guest logs. "0 pidfd file AVCs" means something only if the same
// window caught a denial we know must be logged: the r1 child ends with fstatfs(own pidfd),
// which the test policy denies (filesystem getattr, test 2) and audits. Without that positive
// control an audit pipe that lost records, or a capture that started late, would read as a pass.
import type { AvcRecord } from '../lib/avc.js';
import type { Observation } from '../lib/observation.js';

const typeOf = (context: string | null) => context?.split(':')[2] ?? null;

export function r1Reading(recs: AvcRecord[], obs: Observation, domain = 'pidfd_probe_t'): Observation {
  if (typeof obs.prereq === 'string') return {}; // no pidfd_open (before 5.3): nothing was guarded
  const mine = recs.filter((r) => r.denied && typeOf(r.scontext) === domain);
  const onPidfd = mine.filter((r) => r.tclass === 'file' && (r.dev === 'pidfs' || /pidfd/.test(r.path ?? '') || (r.path !== null && r.path === obs.link)));
  const control = mine.some((r) => r.tclass === 'filesystem' && r.perms.includes('getattr'));
  const reading: Observation = { pidfd_file_avcs: onPidfd.length, avcs_from_domain: mine.length, control_avc: control };
  if (obs.control_fstatfs !== 'EACCES')
    return { ...reading, setup_error: `positive control: fstatfs(pidfd) in ${domain} answered ${String(obs.control_fstatfs)}, not the EACCES the test policy's denial gives, so this window's AVC count proves nothing` };
  if (!control)
    return { ...reading, setup_error: `positive control: the capture window has no AVC for the known denial (${domain} filesystem getattr on fstatfs(pidfd)), so "${onPidfd.length} pidfd file AVCs" proves nothing` };
  return reading;
}

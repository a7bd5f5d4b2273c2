// sluice detach: takes our programs off tc hooks (and clsact, when nothing
// else is on it) and, unless interfaces are named, the host services
// programs off the root cgroup; with --pins removes sluice's pins (its maps
// and links, by name and kind: ownPins.ts) and their directory once empty.
import { DEFAULT_PIN_ROOT, pinRootExists } from '../bpf/bpffs.ts';
import { removeOwnPins } from '../bpf/ownPins.ts';
import { detachSockPrograms } from '../bpf/cgroup.ts';
import { readLinks } from '../bpf/ifaces.ts';
import { inNetns } from '../bpf/netns.ts';
import { detachInterface, interfacesWithPrograms } from '../bpf/tc.ts';
import { failed, NETNS_USAGE, parse, PIN_ROOT_USAGE } from './bpfArgs.ts';
import type { Io } from './io.ts';

export const DETACH_USAGE = `usage: sluice detach [IFACE...] [--pins] [--pin-root DIR] [--netns NS]

Detaches sluice's programs from the named interfaces (default: every
interface that has one, and the host services programs of the pin root from
the root cgroup), removing the clsact qdisc when nothing else is on it.

  --pins           also remove sluice's pins (its maps and links: tracked
                   connections are forgotten) and the pin directory once empty;
                   pins of other tools there are left, and named; the way out
                   of a pinned map that does not fit this version
${PIN_ROOT_USAGE}
${NETNS_USAGE}
  -h, --help       print this text

Exit status: 0, 1 failed (one line says what and why), 2 usage error.
`;

export function detachCommand(args: readonly string[], io: Io): number {
  const p = parse(args, { pins: { type: 'boolean' }, 'pin-root': { type: 'string' }, netns: { type: 'string' } });
  if (!p) {
    io.out(DETACH_USAGE);
    return 0;
  }
  const root = (p.values['pin-root'] as string | undefined) ?? DEFAULT_PIN_ROOT;
  try {
    pinRootExists(root); // a user who may not look into it is told so, not "nothing attached" or "no pins"
    const lines = inNetns(p.values.netns as string | undefined, () => {
      const links = readLinks();
      const targets = p.positionals.length === 0 ? interfacesWithPrograms() : p.positionals.map((name) => {
        const l = links.find((x) => x.ifname === name);
        if (!l) throw new Error(`detach ${name}: no interface of that name`);
        return l;
      });
      return targets.map((l) => {
        const freed = detachInterface(l.ifindex, l.ifname);
        return `${l.ifname}: ${freed.length === 0 ? 'nothing attached' : `detached from ${freed.join(' and ')}`}`;
      });
    });
    if (lines.length === 0) lines.push('no interface had sluice programs');
    if (p.positionals.length === 0) {
      const host = detachSockPrograms(root);
      if (host.length > 0) lines.push(`host services: ${host.join(', ')} detached`);
    }
    if (p.values.pins) {
      const { removed, left } = removeOwnPins(root);
      if (removed.length === 0 && left.length === 0) lines.push(`no pins at ${root}`);
      else if (removed.length > 0) lines.push(`removed ${left.length === 0 ? root : `from ${root}`}: ${removed.join(', ')}`);
      if (left.length > 0) lines.push(`left ${left.length} pin${left.length === 1 ? '' : 's'} that sluice did not make: ${left.join(', ')}`);
    }
    io.out(lines.join('\n') + '\n');
    return 0;
  } catch (e) {
    return failed('detach', e, io, false);
  }
}

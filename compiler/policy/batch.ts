// What one batch of the policy compiler reached, gathered before anything is emitted.
import { Identity, World } from './body';
import { GroupImage } from './emit';
import { Labels, NamedPort } from './model';

/** A policy group: the local pods selected by the same policies for one direction. */
export class Group {
  members: i32 = 0;
  image: GroupImage | null = null; // what the maps hold for it
  id: u32 = 0; // the id image was emitted with
  kinds: u8 = 0;
  uses: u8 = 0;
  constructor(public key: string, public dir: i32, public policies: string[], public resolved: NamedPort[]) {}
}

/** What one batch reached. */
export class Batch {
  toggled: bool = false;
  pods: Set<string> = new Set();
  identities: Identity[] = []; // created, removed or renumbered
  idBuckets: Set<u32> = new Set();
  renumbered: Set<string> = new Set();
  namespaces: Set<string> = new Set(); // created, removed or renumbered
  relabelled: Map<string, Labels> = new Map(); // Namespace objects touched: labels before
  policies: Set<string> = new Set(); // content, rule ids or expansions changed
  rules: Set<string> = new Set();
  groups: Set<string> = new Set();
  groupBuckets: Set<u32> = new Set();
  gone: Map<string, Group> = new Map();
  ips: Set<u32> = new Set();

  oldLabels(ns: string, w: World): Labels { return this.relabelled.has(ns) ? this.relabelled.get(ns) : w.nsLabels(ns); }
}

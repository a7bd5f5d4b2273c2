// Which pods hold each address; the least by key answers for it (sl_ipid,
// explain). An address nearly always has one pod, kept without an array of
// its own: a one-element array per address was 112 bytes of every pod the
// compiler keeps. Pods share one only while an address is handed on.

export class IpOwners {
  private least: Map<u32, string> = new Map();
  private shared: Map<u32, string[]> = new Map(); // every owner, sorted, where there are several

  has(ip: u32): bool { return this.least.has(ip); }

  /** The least owner by key; the address must have one. */
  owner(ip: u32): string { return this.least.get(ip); }

  /** Every address with an owner. */
  addresses(): u32[] { return this.least.keys(); }

  add(ip: u32, pod: string): void {
    if (!this.least.has(ip)) { this.least.set(ip, pod); return; }
    const all = this.shared.has(ip) ? this.shared.get(ip) : [this.least.get(ip)];
    all.push(pod);
    all.sort();
    this.shared.set(ip, all);
    this.least.set(ip, unchecked(all[0]));
  }

  remove(ip: u32, pod: string): void {
    if (!this.shared.has(ip)) { this.least.delete(ip); return; }
    const all = this.shared.get(ip);
    all.splice(all.indexOf(pod), 1);
    if (all.length == 1) this.shared.delete(ip);
    this.least.set(ip, unchecked(all[0]));
  }
}
